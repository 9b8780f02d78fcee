package io.emend.cli.stack;

/**
 * Where a local stack listens: services at {@code base + 1..5} (8081-8085 by default), Kafka at {@code base + 1012}
 * (9092) and its controller at {@code base + 1013} (9093). A second stack (tests, a colleague's checkout) picks another
 * base and never collides with the first.
 */
public record StackPorts(int base) {

    public static final int DEFAULT_BASE = 8080;
    public static final StackPorts DEFAULT = new StackPorts(DEFAULT_BASE);

    public StackPorts {
        if (base < 1024 || base + Component.KAFKA_CONTROLLER_OFFSET > 65535) {
            throw new IllegalArgumentException("--base-port must be between 1024 and "
                    + (65535 - Component.KAFKA_CONTROLLER_OFFSET) + ", got " + base);
        }
    }

    public int port(Component component) {
        return base + component.portOffset;
    }

    public int kafkaController() {
        return base + Component.KAFKA_CONTROLLER_OFFSET;
    }

    /** Where a person or a client reaches the component. */
    public String url(Component component) {
        return component.isService() ? "http://localhost:" + port(component) : "localhost:" + port(component);
    }
}
