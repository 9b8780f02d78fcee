package io.emend.merger;

import io.emend.service.stack.TestStack;

/** The kit's test stack (real registry, Kafka broker, PostgreSQL) configured for the merger's keys. */
public class MergerTestStack extends TestStack {

    public MergerTestStack() {
        super("merger");
    }
}
