package io.emend.merger;

import io.quarkus.test.common.QuarkusTestResource;

/** The real components every merger test runs against, started once for the whole suite. */
@QuarkusTestResource(MergerTestStack.class)
public final class TestResources {
    private TestResources() {
    }
}
