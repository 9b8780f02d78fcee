package io.emend.editor.edit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.EditRequests;
import java.util.List;

/**
 * Edit requests written back in the layout they arrive in (EasyEdit / CounterFact field names, placeholders kept), so
 * the ledger, the recipe and the API show a request exactly as a person would send it again. Reading is core's
 * {@link EditRequests}.
 */
public final class EasyEditLayout {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EasyEditLayout() {
    }

    public static ObjectNode toJson(EditRequest r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("prompt", r.prompt());
        o.put("subject", r.subject());
        o.put("target_new", r.targetNew());
        r.groundTruth().ifPresent(v -> o.put("ground_truth", v));
        r.rephrasePrompt().ifPresent(v -> o.put("rephrase_prompt", v));
        r.localityPrompt().ifPresent(v -> o.put("locality_prompt", v));
        r.localityGroundTruth().ifPresent(v -> o.put("locality_ground_truth", v));
        return o;
    }

    public static ArrayNode toJson(List<EditRequest> requests) {
        ArrayNode a = JSON.createArrayNode();
        requests.forEach(r -> a.add(toJson(r)));
        return a;
    }

    /** One request from its stored JSON. */
    public static EditRequest read(String json) {
        return EditRequests.parse(json).getFirst();
    }
}
