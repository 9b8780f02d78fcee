package io.emend.editor;

import io.emend.service.stack.TestStack;

/**
 * The kit's test stack (real registry, Kafka broker, PostgreSQL) configured for the editor's keys, with the registry
 * relaying its version events to the broker: retention checks start from them.
 */
public class EditorTestStack extends TestStack {

    public EditorTestStack() {
        super("editor");
    }

    @Override
    protected boolean registryEvents() {
        return true;
    }
}
