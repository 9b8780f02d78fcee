package io.emend.registry.version;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.VersionEvent;
import io.emend.registry.alias.AliasRepository;
import io.emend.registry.artifact.ArtifactPath;
import io.emend.registry.artifact.ManifestEntry;
import io.emend.registry.artifact.ManifestRepository;
import io.emend.registry.artifact.BlobStore;
import io.emend.registry.model.Model;
import io.emend.registry.model.ModelArchived;
import io.emend.registry.model.ModelNotFound;
import io.emend.registry.model.ModelRepository;
import io.emend.registry.model.ModelService;
import io.emend.registry.outbox.Outbox;
import io.emend.registry.problem.RegistryException;
import io.emend.registry.resolve.NothingMatches;
import io.emend.registry.resolve.Reference;
import io.emend.registry.resolve.ResolveService;
import io.emend.registry.Name;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/** Transactions of the version aggregate: creation with parents and manifest, metrics, state changes, lineage. */
@ApplicationScoped
public class VersionService {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    public static final String DEFAULT_MEDIA_TYPE = "application/octet-stream";

    private final ModelRepository models;
    private final VersionRepository versions;
    private final ManifestRepository manifests;
    private final AliasRepository aliases;
    private final ResolveService resolver;
    private final BlobStore blobs;
    private final Outbox outbox;
    private final ObjectMapper json;

    VersionService(ModelRepository models, VersionRepository versions, ManifestRepository manifests,
            AliasRepository aliases, ResolveService resolver, BlobStore blobs, Outbox outbox, ObjectMapper json) {
        this.models = models;
        this.versions = versions;
        this.manifests = manifests;
        this.aliases = aliases;
        this.resolver = resolver;
        this.blobs = blobs;
        this.outbox = outbox;
        this.json = json;
    }

    /** A parent named by reference, as a client gives it. */
    public record ParentSpec(String ref, ParentRole role) {
    }

    /** A manifest line as a client gives it; {@code mediaType} may be null. */
    public record EntrySpec(String path, String sha256, long size, String mediaType) {
    }

    /** What a client supplies to create a version; {@code number}, when given, must be the next number. */
    public record NewVersion(Operation operation, List<ParentSpec> parents, ObjectNode recipe, ObjectNode metrics,
            List<EntrySpec> manifest, OptionalInt number) {
    }

    @Transactional
    public Version create(String modelName, NewVersion request) {
        Model model = lockModel(modelName);
        if (model.archived()) {
            throw new ModelArchived(modelName);
        }
        List<ManifestEntry> manifest = checkManifest(request.manifest());
        List<Version.Parent> parents = resolveParents(request.operation(), request.parents());
        int next = versions.nextNumber(model.id());
        if (request.number().isPresent() && request.number().getAsInt() != next) {
            throw new VersionExists(modelName, request.number().getAsInt(), next);
        }
        Version version = new Version(UUID.randomUUID(), model.id(), model.name(), next, VersionState.PENDING,
                request.operation(), text(request.recipe()), text(request.metrics()), parents, manifest,
                ModelService.now(), null);
        versions.insert(version);
        manifest.forEach(entry -> manifests.insert(version.id(), entry));
        outbox.append(event(EventTypes.VERSION_CREATED, version));
        return version;
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public List<Version> list(String modelName, Optional<VersionState> state) {
        Name.check("name", modelName);
        models.findByName(modelName).orElseThrow(() -> new ModelNotFound(modelName));
        return versions.list(modelName, state);
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Version get(String modelName, int number) {
        Name.check("name", modelName);
        return versions.find(modelName, number).orElseThrow(() -> new VersionNotFound(modelName, number));
    }

    /** Sets the given top-level metrics, keeping the others: evaluations add their figures one at a time. */
    @Transactional
    public Version mergeMetrics(String modelName, int number, ObjectNode metrics) {
        lockModel(modelName);
        Version version = versions.find(modelName, number).orElseThrow(() -> new VersionNotFound(modelName, number));
        ObjectNode merged = parse(version.metrics());
        merged.setAll(metrics);
        versions.updateMetrics(version.id(), text(merged));
        return get(modelName, number);
    }

    /**
     * Moves a version to {@code target}. Turning {@code ready} needs every manifest file present and verified;
     * archiving a version an alias still points at is refused, since serving would follow the alias to it.
     */
    @Transactional
    public Version changeState(String modelName, int number, VersionState target, String reason) {
        lockModel(modelName);
        Version version = versions.find(modelName, number).orElseThrow(() -> new VersionNotFound(modelName, number));
        if (!version.state().canMoveTo(target)) {
            throw new IllegalTransition(version.ref(), version.state(), target,
                    version.state() == VersionState.ARCHIVED ? "archived is final" : "only pending versions change");
        }
        if (target == VersionState.READY) {
            List<String> missing = version.manifest().stream().filter(e -> !e.present()).map(ManifestEntry::path).toList();
            if (!missing.isEmpty()) {
                throw new IllegalTransition(version.ref(), version.state(), target,
                        "artifacts not uploaded and verified: " + String.join(", ", missing));
            }
        }
        if (target == VersionState.ARCHIVED) {
            List<String> pointing = aliases.pointingAt(version.id());
            if (!pointing.isEmpty()) {
                throw new IllegalTransition(version.ref(), version.state(), target,
                        "aliases still point at it: " + String.join(", ", pointing));
            }
        }
        versions.updateState(version.id(), target, reason);
        Version changed = get(modelName, number);
        switch (target) {
            case READY -> outbox.append(event(EventTypes.VERSION_READY, changed));
            case FAILED -> outbox.append(event(EventTypes.VERSION_FAILED, changed));
            default -> { }
        }
        return changed;
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Lineage lineage(String modelName, int number, Lineage.Direction direction) {
        Version root = get(modelName, number);
        return Lineage.walk(root, direction,
                id -> versions.findById(id).orElseThrow(() -> new IllegalStateException("dangling parent " + id)),
                versions::childrenOf);
    }

    /** A version event; its subject is the exact reference {@code model:number}. */
    static Event<VersionEvent> event(String type, Version version) {
        return Event.of(Event.REGISTRY, type, version.ref(), new VersionEvent(version.model(), version.number(),
                version.id().toString(), version.operation().wire(), version.state().wire()));
    }

    private Model lockModel(String modelName) {
        Name.check("name", modelName);
        return models.lockByName(modelName).orElseThrow(() -> new ModelNotFound(modelName));
    }

    /**
     * Validates the manifest and marks entries whose blob the store already holds as present: a child that shares
     * files with its parent does not upload them again.
     */
    private List<ManifestEntry> checkManifest(List<EntrySpec> specs) {
        List<ManifestEntry> entries = new ArrayList<>();
        Set<String> paths = new HashSet<>();
        for (int i = 0; i < specs.size(); i++) {
            EntrySpec spec = specs.get(i);
            String field = "manifest[" + i + "]";
            ArtifactPath.check(field + ".path", spec.path());
            if (!paths.add(spec.path())) {
                throw new RegistryException.InvalidInput("duplicate-path", "artifact path '" + spec.path()
                        + "' appears twice in the manifest", List.of(new RegistryException.FieldError(field + ".path",
                                "duplicate path")));
            }
            if (spec.sha256() == null || !SHA256.matcher(spec.sha256()).matches()) {
                throw new RegistryException.InvalidInput("invalid-digest", field + ".sha256 must be 64 lower-case hex"
                        + " digits", List.of(new RegistryException.FieldError(field + ".sha256",
                                "must be 64 lower-case hex digits")));
            }
            String mediaType = spec.mediaType() == null || spec.mediaType().isBlank()
                    ? DEFAULT_MEDIA_TYPE : spec.mediaType();
            entries.add(new ManifestEntry(spec.path(), spec.sha256(), spec.size(), mediaType,
                    blobs.holds(spec.sha256(), spec.size())));
        }
        return entries;
    }

    private List<Version.Parent> resolveParents(Operation operation, List<ParentSpec> specs) {
        if (operation == Operation.IMPORT && !specs.isEmpty()) {
            throw new RegistryException.InvalidInput("invalid-parents", "an import has no parents",
                    List.of(new RegistryException.FieldError("parents", "must be empty for an import")));
        }
        if (operation != Operation.IMPORT && specs.isEmpty()) {
            throw new RegistryException.InvalidInput("invalid-parents", "a " + operation.wire()
                    + " needs at least one parent", List.of(new RegistryException.FieldError("parents",
                            "must name the version(s) it was made from")));
        }
        List<Version.Parent> parents = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            Reference reference = Reference.parse("parents[" + i + "].ref", specs.get(i).ref());
            Version parent;
            try {
                parent = resolver.resolve(reference).version();
            } catch (NothingMatches e) {
                throw new RegistryException.Unprocessable("parent-not-found", "parents[" + i + "]: " + e.getMessage());
            }
            parents.add(new Version.Parent(parent.id(), parent.model(), parent.number(), specs.get(i).role()));
        }
        return parents;
    }

    private String text(ObjectNode node) {
        try {
            return json.writeValueAsString(node == null ? json.createObjectNode() : node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private ObjectNode parse(String text) {
        try {
            return (ObjectNode) json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is unreadable", e);
        }
    }
}
