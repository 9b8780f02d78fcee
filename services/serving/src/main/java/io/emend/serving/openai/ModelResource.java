package io.emend.serving.openai;

import io.emend.serving.model.LoadedModel;
import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelName;
import io.emend.serving.model.ModelNotFound;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/** {@code GET /v1/models}: the references this replica serves now. */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {

    private final ModelCatalog models;

    ModelResource(ModelCatalog models) {
        this.models = models;
    }

    @GET
    public ModelList list() {
        List<ModelList.Model> data = models.served().stream()
                .sorted(java.util.Map.Entry.comparingByKey())
                .map(e -> model(e.getKey(), e.getValue()))
                .toList();
        return new ModelList("list", data);
    }

    @GET
    @Path("{model}")
    public ModelList.Model get(@PathParam("model") String model) {
        ModelName.parse("model", model);
        return models.current(model).map(m -> model(model, m))
                .orElseThrow(() -> new ModelNotFound("The model `" + model + "` is not loaded on this server"));
    }

    private static ModelList.Model model(String ref, LoadedModel m) {
        return new ModelList.Model(ref, "model", m.loadedAt().getEpochSecond(), "emend");
    }
}
