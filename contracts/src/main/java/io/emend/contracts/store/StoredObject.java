package io.emend.contracts.store;

import java.time.Instant;
import java.util.Optional;

/**
 * An object as the store reports it. {@code sha256} is known right after a {@link ObjectStore#put} and may be
 * empty when listing (an S3 ETag is not a SHA-256).
 */
public record StoredObject(String key, long size, Optional<String> sha256, Instant lastModified) {
}
