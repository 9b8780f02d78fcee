package io.emend.registry.artifact;

import io.emend.registry.Name;
import io.emend.registry.model.ModelNotFound;
import io.emend.registry.model.ModelRepository;
import io.emend.registry.problem.RegistryException;
import io.emend.registry.version.Version;
import io.emend.registry.version.VersionNotFound;
import io.emend.registry.version.VersionRepository;
import io.emend.registry.version.VersionState;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.InputStream;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Uploads and downloads of a version's files. An upload streams into the blob store outside any transaction (a
 * large file must not hold a database connection for minutes); only the final "this file is present" is a short
 * transaction, taken under the model's lock like every other change to the model.
 */
@ApplicationScoped
public class ArtifactService {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final ModelRepository models;
    private final VersionRepository versions;
    private final ManifestRepository manifests;
    private final BlobStore blobs;

    ArtifactService(ModelRepository models, VersionRepository versions, ManifestRepository manifests,
            BlobStore blobs) {
        this.models = models;
        this.versions = versions;
        this.manifests = manifests;
        this.blobs = blobs;
    }

    /**
     * Stores the file {@code path} of a pending version from {@code body}. The digest the client declares must be the
     * one in the manifest, and the bytes must hash to it; otherwise nothing is kept.
     */
    public ManifestEntry upload(String modelName, int number, String path, String declaredSha256, InputStream body) {
        ArtifactPath.check("path", path);
        if (declaredSha256 == null || declaredSha256.isBlank()) {
            throw new RegistryException.InvalidInput("missing-digest", "the X-Emend-Sha256 header is required",
                    List.of(new RegistryException.FieldError("X-Emend-Sha256", "required")));
        }
        String sha256 = declaredSha256.strip().toLowerCase(java.util.Locale.ROOT);
        if (!SHA256.matcher(sha256).matches()) {
            throw new RegistryException.InvalidInput("invalid-digest", "X-Emend-Sha256 must be 64 hex digits",
                    List.of(new RegistryException.FieldError("X-Emend-Sha256", "must be 64 hex digits")));
        }
        Version version = version(modelName, number);
        if (version.state() != VersionState.PENDING) {
            throw new RegistryException.Conflict("version-not-pending", version.ref() + " is " + version.state().wire()
                    + "; only pending versions take uploads");
        }
        ManifestEntry entry = version.manifest().stream().filter(e -> e.path().equals(path)).findFirst()
                .orElseThrow(() -> new RegistryException.InvalidInput("not-in-manifest", "'" + path
                        + "' is not in the manifest of " + version.ref()));
        if (!entry.sha256().equals(sha256)) {
            throw new RegistryException.Unprocessable("digest-mismatch", "X-Emend-Sha256 " + sha256
                    + " differs from the manifest's " + entry.sha256() + " for '" + path + "'; nothing was stored");
        }
        blobs.store(sha256, entry.size(), body);
        QuarkusTransaction.requiringNew().run(() -> {
            models.lockByName(modelName).orElseThrow(() -> new ModelNotFound(modelName));
            manifests.markPresent(version.id(), path);
        });
        return new ManifestEntry(entry.path(), entry.sha256(), entry.size(), entry.mediaType(), true);
    }

    /** The manifest entry of a file that has been uploaded; 404 while it has not. */
    public ManifestEntry downloadable(String modelName, int number, String path) {
        ArtifactPath.check("path", path);
        Version version = version(modelName, number);
        ManifestEntry entry = version.manifest().stream().filter(e -> e.path().equals(path)).findFirst()
                .orElseThrow(() -> new RegistryException.NotFound("artifact-not-found", "'" + path
                        + "' is not in the manifest of " + version.ref()));
        if (!entry.present()) {
            throw new RegistryException.NotFound("artifact-not-uploaded", "'" + path + "' of " + version.ref()
                    + " has not been uploaded yet");
        }
        return entry;
    }

    /** The size of a stored blob; 404 when the store does not hold it. */
    public long blobSize(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new RegistryException.InvalidInput("invalid-digest", "a blob is named by 64 lower-case hex digits",
                    List.of(new RegistryException.FieldError("sha256", "must be 64 lower-case hex digits")));
        }
        return blobs.stat(sha256).orElseThrow(() -> new RegistryException.NotFound("blob-not-found",
                "no blob with sha256 " + sha256)).size();
    }

    public InputStream open(String sha256, ByteRange range) {
        return blobs.open(sha256, range.first(), range.length());
    }

    private Version version(String modelName, int number) {
        Name.check("name", modelName);
        models.findByName(modelName).orElseThrow(() -> new ModelNotFound(modelName));
        return versions.find(modelName, number).orElseThrow(() -> new VersionNotFound(modelName, number));
    }
}
