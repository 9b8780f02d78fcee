package io.emend.trainer;

import io.quarkus.test.common.QuarkusTestResource;

/** The real components every trainer test runs against, started once for the whole suite. */
@QuarkusTestResource(TrainerTestStack.class)
public final class TestResources {
    private TestResources() {
    }
}
