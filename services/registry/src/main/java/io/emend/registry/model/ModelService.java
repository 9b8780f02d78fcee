package io.emend.registry.model;

import io.emend.registry.Name;
import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;

/** Transactions of the model aggregate. */
@ApplicationScoped
public class ModelService {

    private final ModelRepository models;

    ModelService(ModelRepository models) {
        this.models = models;
    }

    /** What a client may set on a new model. */
    public record NewModel(String name, String description, String family, List<String> tags) {
    }

    /** One page of models and how many there are in all. */
    public record Page(List<Model> items, int page, int size, long total) {
    }

    @Transactional
    public Model create(NewModel request) {
        Name.check("name", request.name());
        List<String> tags = request.tags() == null ? List.of() : List.copyOf(new TreeSet<>(request.tags()));
        tags.forEach(tag -> Name.check("tags", tag));
        if (models.findByName(request.name()).isPresent()) {
            throw new ModelExists(request.name());
        }
        Model model = new Model(UUID.randomUUID(), request.name(), request.description(), request.family(), tags, false,
                now());
        try {
            models.insert(model);
        } catch (Database.UniqueViolation raced) {
            throw new ModelExists(request.name());
        }
        return model;
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Page list(Optional<String> tag, int page, int size) {
        tag.ifPresent(t -> Name.check("tag", t));
        return new Page(models.page(tag, page, size), page, size, models.count(tag));
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Model get(String name) {
        Name.check("name", name);
        return models.findByName(name).orElseThrow(() -> new ModelNotFound(name));
    }

    /** Archiving is idempotent: archiving an archived model changes nothing. */
    @Transactional
    public Model archive(String name) {
        Name.check("name", name);
        Model model = models.lockByName(name).orElseThrow(() -> new ModelNotFound(name));
        models.archive(model.id());
        return new Model(model.id(), model.name(), model.description(), model.family(), model.tags(), true,
                model.createdAt());
    }

    /** Timestamps are kept to the microsecond, the resolution both databases store. */
    public static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
