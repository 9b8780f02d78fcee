package io.emend.trainer;

import io.emend.service.stack.TestStack;
import java.util.Map;

/**
 * The kit's test stack (real registry, Kafka broker, PostgreSQL) configured for the trainer's keys; the trainer reads
 * object-store keys from the registry's own filesystem store, as under {@code ./emend up}.
 */
public class TrainerTestStack extends TestStack {

    public TrainerTestStack() {
        super("trainer");
    }

    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        config.put("emend.trainer.object-store.root", registryObjects().toString());
        return config;
    }
}
