package io.emend.serving.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/** {@code GET /v1/models}. */
public record ModelList(String object, List<Model> data) {

    /** {@code object: "model"}; {@code created} is when this replica loaded the version (seconds). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Model(String id, String object, long created, String ownedBy) {
    }
}
