package io.emend.registry.imports;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.contracts.store.ObjectStore;
import io.emend.contracts.store.StoredObject;
import io.emend.registry.Name;
import io.emend.registry.RegistryConfig;
import io.emend.registry.alias.AliasService;
import io.emend.registry.artifact.ArtifactPath;
import io.emend.registry.artifact.BlobStore;
import io.emend.registry.database.Database;
import io.emend.registry.model.Model;
import io.emend.registry.model.ModelExists;
import io.emend.registry.model.ModelRepository;
import io.emend.registry.model.ModelService;
import io.emend.registry.problem.RegistryException;
import io.emend.registry.version.Operation;
import io.emend.registry.version.Version;
import io.emend.registry.version.VersionService;
import io.emend.registry.version.VersionState;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Imports a Hugging Face model directory as a new ready version. Everything is checked first ({@link HfDirectory}),
 * then the files go into the blob store (content-addressed, so a re-import stores nothing new), and only then one
 * transaction creates the model if needed, the version with its manifest, its state change and the alias move, with
 * their events. A failure anywhere before that transaction leaves no trace but unreferenced blobs.
 */
@ApplicationScoped
public class ImportService {

    private final ObjectStore store;
    private final BlobStore blobs;
    private final ModelRepository models;
    private final VersionService versions;
    private final AliasService aliases;
    private final RegistryConfig.ImportConfig config;
    private final ObjectMapper json;

    ImportService(ObjectStore store, BlobStore blobs, ModelRepository models, VersionService versions,
            AliasService aliases, RegistryConfig config, ObjectMapper json) {
        this.store = store;
        this.blobs = blobs;
        this.models = models;
        this.versions = versions;
        this.aliases = aliases;
        this.config = config.imports();
        this.json = json;
    }

    /** Where the model comes from: exactly one of a local directory or an object-store prefix. */
    public record Source(Optional<String> path, Optional<String> prefix) {
    }

    /** An import request as the resource passes it; {@code alias} is moved to the new version when given. */
    public record ImportRequest(Source source, Optional<String> description, Optional<String> alias, String by) {
    }

    public Version importModel(String modelName, ImportRequest request) {
        Name.check("name", modelName);
        request.alias().ifPresent(alias -> Name.check("alias", alias));
        Source source = request.source();
        if (source.path().isPresent() == source.prefix().isPresent()) {
            throw new RegistryException.InvalidInput("invalid-source", "give exactly one of path and prefix",
                    List.of(new RegistryException.FieldError("path", "exactly one of path and prefix")));
        }
        if (source.path().isPresent()) {
            return importChecked(modelName, request, localDirectory(source.path().get()));
        }
        Path staging = download(source.prefix().get());
        try {
            return importChecked(modelName, request, staging);
        } finally {
            deleteTree(staging);
        }
    }

    private Version importChecked(String modelName, ImportRequest request, Path dir) {
        HfDirectory.Checked checked = HfDirectory.check(dir);
        List<VersionService.EntrySpec> manifest = checked.files().stream().map(file -> {
            String sha256 = HfDirectory.sha256(file.file());
            try (InputStream in = Files.newInputStream(file.file())) {
                blobs.store(sha256, file.size(), in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file.path(), e);
            }
            return new VersionService.EntrySpec(file.path(), sha256, file.size(), mediaType(file.path()));
        }).toList();
        ObjectNode recipe = json.createObjectNode();
        request.source().path().ifPresent(path -> recipe.put("path", path));
        request.source().prefix().ifPresent(prefix -> recipe.put("prefix", prefix));
        recipe.put("modelType", checked.config().modelType());
        return QuarkusTransaction.requiringNew().call(() -> {
            ensureModel(modelName, request.description(), checked.config().modelType());
            Version created = versions.create(modelName, new VersionService.NewVersion(Operation.IMPORT, List.of(),
                    recipe, null, manifest, OptionalInt.empty()));
            Version ready = versions.changeState(modelName, created.number(), VersionState.READY, null);
            request.alias().ifPresent(alias ->
                    aliases.move(modelName, alias, ready.number(), OptionalInt.empty(), request.by()));
            return ready;
        });
    }

    private void ensureModel(String name, Optional<String> description, String family) {
        if (models.lockByName(name).isPresent()) {
            return;
        }
        try {
            models.insert(new Model(UUID.randomUUID(), name, description.orElse(null), family, List.of(), false,
                    ModelService.now()));
        } catch (Database.UniqueViolation raced) {
            throw new ModelExists(name);
        }
    }

    private Path localDirectory(String path) {
        Path dir = Path.of(path);
        if (!dir.isAbsolute()) {
            throw invalidPath("path must be absolute");
        }
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw invalidPath("no such directory");
        }
        if (!Files.isDirectory(real)) {
            throw invalidPath("not a directory");
        }
        if (config.localRoots().isPresent() && config.localRoots().get().stream()
                .noneMatch(root -> real.startsWith(root.toAbsolutePath().normalize()))) {
            throw invalidPath("outside the directories this registry imports from (emend.registry.imports.local-roots)");
        }
        return real;
    }

    private static RegistryException invalidPath(String why) {
        return new RegistryException.InvalidInput("invalid-source", "path: " + why,
                List.of(new RegistryException.FieldError("path", why)));
    }

    /** Copies the objects under {@code prefix} into a private staging directory, streaming each one. */
    private Path download(String prefix) {
        String normalized = prefix.endsWith("/") ? prefix : prefix + "/";
        String problem = normalized.length() > 1 ? null : "prefix is empty";
        if (problem == null) {
            try {
                ArtifactPath.check("prefix", normalized.substring(0, normalized.length() - 1));
            } catch (RegistryException e) {
                problem = e.getMessage();
            }
        }
        if (problem != null) {
            throw new RegistryException.InvalidInput("invalid-source", "prefix: " + problem,
                    List.of(new RegistryException.FieldError("prefix", problem)));
        }
        Path staging;
        try {
            staging = Files.createTempDirectory("emend-import");
            List<StoredObject> objects = store.list(normalized);
            if (objects.isEmpty()) {
                throw new RegistryException.InvalidInput("invalid-source", "prefix: no objects under '" + normalized
                        + "'", List.of(new RegistryException.FieldError("prefix", "no objects under it")));
            }
            for (StoredObject object : objects) {
                String relative = object.key().substring(normalized.length());
                ArtifactPath.check("prefix", relative);
                Path target = staging.resolve(relative);
                Files.createDirectories(target.getParent());
                try (InputStream in = store.get(object.key())) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return staging;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read '" + normalized + "' from the object store", e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean the import staging directory", e);
        }
    }

    private static String mediaType(String path) {
        if (path.endsWith(".json")) {
            return "application/json";
        }
        if (path.endsWith(".md") || path.endsWith(".txt")) {
            return "text/plain";
        }
        return VersionService.DEFAULT_MEDIA_TYPE;
    }
}
