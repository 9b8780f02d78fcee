package io.emend.editor;

import io.quarkus.test.common.QuarkusTestResource;

/** The real components every editor test runs against, started once for the whole suite. */
@QuarkusTestResource(EditorTestStack.class)
public final class TestResources {
    private TestResources() {
    }
}
