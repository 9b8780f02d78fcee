package io.emend.registry.alias;

import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventTypes;
import io.emend.registry.Name;
import io.emend.registry.database.Database;
import io.emend.registry.model.Model;
import io.emend.registry.model.ModelNotFound;
import io.emend.registry.model.ModelRepository;
import io.emend.registry.model.ModelService;
import io.emend.registry.outbox.Outbox;
import io.emend.registry.version.Version;
import io.emend.registry.version.VersionNotFound;
import io.emend.registry.version.VersionRepository;
import io.emend.registry.version.VersionState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

/** Transactions of the alias aggregate: moves with an optional expected target, rollbacks, and their history. */
@ApplicationScoped
public class AliasService {

    static final String SET = "set";
    static final String ROLLBACK = "rollback";

    private final ModelRepository models;
    private final VersionRepository versions;
    private final AliasRepository aliases;
    private final Outbox outbox;

    AliasService(ModelRepository models, VersionRepository versions, AliasRepository aliases, Outbox outbox) {
        this.models = models;
        this.versions = versions;
        this.aliases = aliases;
        this.outbox = outbox;
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public List<Alias> list(String modelName) {
        Name.check("name", modelName);
        models.findByName(modelName).orElseThrow(() -> new ModelNotFound(modelName));
        return aliases.list(modelName);
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Alias get(String modelName, String aliasName) {
        Name.check("name", modelName);
        Name.check("alias", aliasName);
        return aliases.find(modelName, aliasName).orElseThrow(() -> new AliasNotFound(modelName, aliasName));
    }

    /**
     * Points the alias at version {@code number}, creating the alias if needed. With {@code expectedVersion} the move
     * happens only if the alias points there now (compare-and-set), so two promoters cannot overwrite each other
     * unknowingly. Moving an alias to where it already points changes nothing and publishes nothing.
     */
    @Transactional
    public Alias move(String modelName, String aliasName, int number, OptionalInt expectedVersion, String by) {
        Name.check("alias", aliasName);
        Model model = lockModel(modelName);
        Version target = versions.find(modelName, number).orElseThrow(() -> new VersionNotFound(modelName, number));
        if (target.state() != VersionState.READY) {
            throw new AliasConflict("version-not-ready", "alias '" + modelName + "@" + aliasName + "' can only point at"
                    + " a ready version; " + target.ref() + " is " + target.state().wire());
        }
        Optional<Alias> current = aliases.find(modelName, aliasName);
        if (expectedVersion.isPresent()) {
            int expected = expectedVersion.getAsInt();
            if (current.isEmpty() || current.get().version() != expected) {
                throw new AliasConflict("alias-moved", "alias '" + modelName + "@" + aliasName + "' points at "
                        + current.map(a -> "version " + a.version()).orElse("nothing") + ", not version " + expected
                        + " as expected; read it again and retry");
            }
        }
        Instant at = ModelService.now();
        if (current.isEmpty()) {
            UUID id = UUID.randomUUID();
            try {
                aliases.insert(id, model.id(), aliasName, target.id(), at);
            } catch (Database.UniqueViolation raced) {
                throw new AliasConflict("alias-moved", "alias '" + modelName + "@" + aliasName
                        + "' was created concurrently; read it again and retry");
            }
            aliases.appendMove(id, SET, target.id(), null, at, by);
            outbox.append(moved(modelName, aliasName, number, null));
        } else if (current.get().version() != number) {
            Alias alias = current.get();
            UUID previous = versions.find(modelName, alias.version()).orElseThrow().id();
            aliases.retarget(alias.id(), target.id(), at);
            aliases.appendMove(alias.id(), SET, target.id(), previous, at, by);
            outbox.append(moved(modelName, aliasName, number, alias.version()));
        }
        return get(modelName, aliasName);
    }

    /**
     * Undoes the newest move that is not undone yet, so repeated rollbacks walk back through earlier targets. The
     * earlier target must still be ready.
     */
    @Transactional
    public Alias rollback(String modelName, String aliasName, String by) {
        Name.check("alias", aliasName);
        lockModel(modelName);
        Alias alias = aliases.find(modelName, aliasName).orElseThrow(() -> new AliasNotFound(modelName, aliasName));
        AliasRepository.UndoableMove last = aliases.lastUndoableSet(alias.id())
                .filter(move -> move.previousVersionId() != null)
                .orElseThrow(() -> new AliasConflict("no-previous-target", "alias '" + modelName + "@" + aliasName
                        + "' has no earlier target to roll back to"));
        Version previous = versions.findById(last.previousVersionId()).orElseThrow();
        if (previous.state() != VersionState.READY) {
            throw new AliasConflict("version-not-ready", "alias '" + modelName + "@" + aliasName + "' would roll back"
                    + " to " + previous.ref() + ", which is " + previous.state().wire());
        }
        Version current = versions.find(modelName, alias.version()).orElseThrow();
        Instant at = ModelService.now();
        aliases.markUndone(last.id());
        aliases.retarget(alias.id(), previous.id(), at);
        aliases.appendMove(alias.id(), ROLLBACK, previous.id(), current.id(), at, by);
        outbox.append(moved(modelName, aliasName, previous.number(), alias.version()));
        return get(modelName, aliasName);
    }

    /** The event serving swaps on; its subject is {@code model@alias}. */
    private static Event<AliasMoved> moved(String model, String alias, int version, Integer previousVersion) {
        return Event.of(Event.REGISTRY, EventTypes.ALIAS_MOVED, model + "@" + alias,
                new AliasMoved(model, alias, version, previousVersion));
    }

    private Model lockModel(String modelName) {
        Name.check("name", modelName);
        return models.lockByName(modelName).orElseThrow(() -> new ModelNotFound(modelName));
    }
}
