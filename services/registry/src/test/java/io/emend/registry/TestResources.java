package io.emend.registry;

import io.quarkus.test.common.QuarkusTestResource;

/** The real components every registry test runs against, started once for the whole suite. */
@QuarkusTestResource(PostgresDatabase.class)
@QuarkusTestResource(KafkaBrokerResource.class)
public final class TestResources {
    private TestResources() {
    }
}
