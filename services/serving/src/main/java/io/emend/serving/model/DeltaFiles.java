package io.emend.serving.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A delta's files on local disk: a PEFT LoRA adapter directory ({@code adapter_config.json}, {@code
 * adapter_model.safetensors}) or a directory holding an edit version's factors ({@code edit_delta.safetensors}).
 *
 * @param version which bytes the delta is (an edit version's digest is that of its whole manifest)
 * @param over    the version the delta was computed over, when it must be applied to exactly that one: an edit
 *                version's factors are its edits' cumulative change to its edit base. Empty for a LoRA adapter (any
 *                base of its shapes) and where the source cannot say (standalone directories)
 */
public record DeltaFiles(ModelVersion version, Path dir, Optional<ModelVersion> over) {
}
