package io.emend.trainer.job;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * A data file a job reads, pinned at {@code validating_files}: the recipe records these digests.
 *
 * @param role     {@code training}, {@code validation}, {@code replay}, {@code probe} or {@code retention}
 * @param ref      as requested: an object-store key or {@code sha256:<hex>}
 * @param sha256   the bytes' digest
 * @param examples non-blank lines (examples) in it
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record DataFile(String role, String ref, String sha256, long size, int examples) {
}
