package io.emend.service.job;

import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Job events on Kafka: a configuration group each service nests as {@code emend.<service>.events}. */
public interface EventsConfig {

    /** {@code emend.<service>.events.enabled}: publish job events to Kafka; default {@code true}. */
    @WithDefault("true")
    boolean enabled();

    /**
     * {@code emend.<service>.events.bootstrap-servers}: Kafka brokers; default {@code ${kafka.bootstrap.servers}},
     * else {@code localhost:9092}.
     */
    @WithDefault("${kafka.bootstrap.servers:localhost:9092}")
    String bootstrapServers();

    /** {@code emend.<service>.events.send-timeout}: how long one publish may wait for the broker; default {@code 10s}. */
    @WithDefault("10s")
    Duration sendTimeout();
}
