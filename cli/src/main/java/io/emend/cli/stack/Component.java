package io.emend.cli.stack;

import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What the local stack is made of, in start order: the Kafka broker, then the five services, each a JVM of its own.
 * A component's port is the stack's base port plus its offset, so {@code --base-port} moves a whole stack at once.
 */
public enum Component {
    KAFKA(1012),
    REGISTRY(1),
    TRAINER(2),
    EDITOR(3),
    MERGER(4),
    SERVING(5);

    /** Kafka's KRaft controller listens next to its client port. */
    static final int KAFKA_CONTROLLER_OFFSET = 1013;

    final int portOffset;

    Component(int portOffset) {
        this.portOffset = portOffset;
    }

    /** The name people type ({@code ./emend logs registry}) and the service's folder under {@code services/}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isService() {
        return this != KAFKA;
    }

    public static List<Component> services() {
        return Stream.of(values()).filter(Component::isService).toList();
    }

    public static Component parse(String text) {
        return Stream.of(values()).filter(c -> c.id().equalsIgnoreCase(text.strip())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown component '" + text + "'; use one of "
                        + String.join(", ", Stream.of(values()).map(Component::id).toList())));
    }
}
