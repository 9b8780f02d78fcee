package io.emend.registry.outbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.registry.model.ModelService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.UUID;

/**
 * Appends events to the outbox. It must run inside the transaction of the change the event describes
 * ({@link Transactional.TxType#MANDATORY}): the event exists exactly when the change does.
 */
@ApplicationScoped
public class Outbox {

    public static final String VERSIONS_TOPIC = "emend.versions";
    public static final String ALIASES_TOPIC = "emend.aliases";
    public static final String VERSION_CREATED = "io.emend.version.created";
    public static final String VERSION_READY = "io.emend.version.ready";
    public static final String VERSION_FAILED = "io.emend.version.failed";
    public static final String ALIAS_MOVED = "io.emend.alias.moved";
    static final String SOURCE = "/emend/registry";

    private final OutboxRepository rows;
    private final ObjectMapper json;

    Outbox(OutboxRepository rows, ObjectMapper json) {
        this.rows = rows;
        this.json = json;
    }

    /** The data of every version event. */
    public record VersionEventData(String model, int number, UUID id, String operation, String state) {
    }

    /** The data of {@code io.emend.alias.moved}; {@code previousVersion} is null for an alias's first target. */
    public record AliasMovedData(String model, String alias, int version, Integer previousVersion) {
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void versionEvent(String type, VersionEventData data) {
        append(VERSIONS_TOPIC, data.model(), type, data);
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void aliasMoved(AliasMovedData data) {
        append(ALIASES_TOPIC, data.model(), ALIAS_MOVED, data);
    }

    private void append(String topic, String key, String type, Object data) {
        UUID id = UUID.randomUUID();
        Instant at = ModelService.now();
        rows.insert(id, topic, key, type, encode(id, type, key, at, data), at);
    }

    /** A CloudEvents 1.0 structured-mode JSON document; the subject is the model, the Kafka key. */
    private String encode(UUID id, String type, String subject, Instant time, Object data) {
        ObjectNode event = json.createObjectNode();
        event.put("specversion", "1.0");
        event.put("id", id.toString());
        event.put("source", SOURCE);
        event.put("type", type);
        event.put("subject", subject);
        event.put("time", time.toString());
        event.put("datacontenttype", "application/json");
        event.set("data", json.valueToTree(data));
        try {
            return json.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode event " + type, e);
        }
    }
}
