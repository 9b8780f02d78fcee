package io.emend.contracts.event;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.cloudevents.CloudEvent;
import io.cloudevents.CloudEventData;
import io.cloudevents.SpecVersion;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.core.format.EventDeserializationException;
import io.cloudevents.jackson.JsonFormat;
import java.io.IOException;

/**
 * Writes and reads Emend events as CloudEvents 1.0 structured JSON ({@code application/cloudevents+json}), with
 * {@code datacontenttype: application/json} and the data as a JSON object. Thread-safe; one instance can serve a
 * whole service.
 *
 * <p>Reading is tolerant of fields it does not know inside {@code data} (a newer producer may add some) and strict
 * about everything else: the spec version, the type, the content type and every field the records require.
 */
public final class EventCodec {

    /** The content type of an encoded event, for a Kafka header or an HTTP body. */
    public static final String CONTENT_TYPE = JsonFormat.CONTENT_TYPE;

    private static final String DATA_CONTENT_TYPE = "application/json";

    private final JsonFormat format = new JsonFormat();
    private final ObjectMapper mapper = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    /** The event as structured CloudEvents JSON (UTF-8). */
    public byte[] encode(Event<?> event) {
        byte[] data;
        try {
            data = mapper.writeValueAsBytes(event.data());
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the data of " + event.type() + " as JSON", e);
        }
        CloudEvent cloudEvent = CloudEventBuilder.v1()
                .withId(event.id())
                .withSource(event.source())
                .withType(event.type())
                .withSubject(event.subject())
                .withTime(event.time())
                .withDataContentType(DATA_CONTENT_TYPE)
                .withData(data)
                .build();
        return format.serialize(cloudEvent);
    }

    /**
     * Reads any Emend event; its data is the record {@link EventTypes#dataType} names for its type.
     *
     * @throws MalformedEventException saying what is wrong with {@code json}
     */
    public Event<?> decode(byte[] json) {
        CloudEvent cloudEvent;
        try {
            cloudEvent = format.deserialize(json);
        } catch (EventDeserializationException | IllegalArgumentException | IllegalStateException e) {
            throw new MalformedEventException("not a CloudEvents JSON event: " + rootMessage(e), e);
        }
        if (cloudEvent.getSpecVersion() != SpecVersion.V1) {
            throw new MalformedEventException("CloudEvents specversion must be 1.0, was "
                    + cloudEvent.getSpecVersion().toString());
        }
        String type = cloudEvent.getType();
        Class<? extends EventData> dataType = EventTypes.dataType(type).orElseThrow(() -> new MalformedEventException(
                "unknown event type " + type + "; known: " + EventTypes.all()));
        if (!DATA_CONTENT_TYPE.equals(cloudEvent.getDataContentType())) {
            throw new MalformedEventException(type + " " + cloudEvent.getId() + ": datacontenttype must be "
                    + DATA_CONTENT_TYPE + ", was " + cloudEvent.getDataContentType());
        }
        if (cloudEvent.getSubject() == null || cloudEvent.getTime() == null) {
            throw new MalformedEventException(type + " " + cloudEvent.getId() + ": subject and time are required");
        }
        CloudEventData data = cloudEvent.getData();
        if (data == null) {
            throw new MalformedEventException(type + " " + cloudEvent.getId() + ": data is missing");
        }
        EventData value;
        try {
            value = mapper.readValue(data.toBytes(), dataType);
        } catch (IOException e) {
            throw new MalformedEventException(type + " " + cloudEvent.getId() + ": invalid data: "
                    + rootMessage(e), e);
        }
        try {
            return new Event<>(cloudEvent.getId(), cloudEvent.getSource(), type, cloudEvent.getSubject(),
                    cloudEvent.getTime(), value);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new MalformedEventException(type + " " + cloudEvent.getId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads an event whose data must be a {@code dataType}, e.g. a consumer of {@link Topics#ALIASES} reading
     * {@link AliasMoved}.
     *
     * @throws MalformedEventException when the bytes are malformed or carry another kind of data
     */
    public <T extends EventData> Event<T> decode(byte[] json, Class<T> dataType) {
        Event<?> event = decode(json);
        if (!dataType.isInstance(event.data())) {
            throw new MalformedEventException("expected an event carrying " + dataType.getSimpleName() + ", got "
                    + event.type());
        }
        @SuppressWarnings("unchecked") // checked just above
        Event<T> typed = (Event<T>) event;
        return typed;
    }

    /** Jackson's messages start with the useful part and append source locations; the cause chain ends in it. */
    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof JsonMappingException mapping) {
            return mapping.getOriginalMessage();
        }
        String message = root.getMessage();
        if (message == null) {
            return root.getClass().getSimpleName();
        }
        int location = message.indexOf("\n at [Source");
        return location < 0 ? message : message.substring(0, location);
    }
}
