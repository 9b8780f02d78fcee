package io.emend.merger;

import io.emend.service.stack.TestStack;
import java.util.Map;

/**
 * The kit's test stack (real registry, Kafka broker, PostgreSQL) configured for the merger's keys, plus a fresh
 * object store for the texts requests name by key.
 */
public class MergerTestStack extends TestStack {

    public MergerTestStack() {
        super("merger");
    }

    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        config.put("emend.merger.object-store.root", scratch.resolve("objects").toString());
        return config;
    }
}
