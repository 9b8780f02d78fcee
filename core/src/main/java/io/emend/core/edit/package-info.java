/**
 * Knowledge editing: writing individual facts ("The Eiffel Tower is in Rome") into a model's MLP weights as low-rank
 * factors ({@link io.emend.core.delta.EditDelta}), not as a fine-tune.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link io.emend.core.edit.EditRequest} / {@link io.emend.core.edit.EditRequests}: the CounterFact / EasyEdit
 *       request layout, validated with errors naming the request and field
 *       ({@link io.emend.core.edit.InvalidEditException}); {@link io.emend.core.edit.PreparedEdit} tokenizes a
 *       request with its context prefixes and checks it against the model's context and the edit limit.</li>
 *   <li>{@link io.emend.core.edit.KeyStatistics}: {@code C = E[k kᵀ]} of the MLP down-projection keys per layer over
 *       a corpus, stored as safetensors with the corpus digest and token count, reused for every edit of a base.</li>
 *   <li>{@link io.emend.core.edit.TargetValue}: Adam on the shift δ that makes the model say the new target
 *       (NLL + KL on "{subject} is a" + relative weight decay, norm clamp).</li>
 *   <li>The methods, behind {@link io.emend.core.edit.KnowledgeEditor} and {@link io.emend.core.edit.EditMethod}:
 *       {@code rome.RomeEditor} (sequential rank-one updates), {@code memit.MemitEditor} (batched least squares over
 *       a layer range with an {@code UpdateRule}), {@code alphaedit.AlphaEditor} (MEMIT with the
 *       {@code NullSpaceProjection} rule, sequential batches). Defaults per architecture and depth:
 *       {@link io.emend.core.edit.EditDefaults}; no method edits a model's last layer, since no attention after it
 *       carries the subject's value to the answer.</li>
 *   <li>{@link io.emend.core.edit.ServedDelta}: the factors as the quantized engine's low-rank adapter, to serve an
 *       edit over the unchanged (quantized) base.</li>
 *   <li>{@link io.emend.core.edit.Matrix}: the closed forms' dense algebra in double precision (Cholesky solves;
 *       {@link io.emend.core.edit.SymmetricEigensolver}'s Householder + implicit QR eigen-decomposition, with Jacobi
 *       kept as its test reference) in plain Java, because DJL 0.35.1 offers only {@code inverse()} (no eigh, svd,
 *       solve or Cholesky in {@code ai.djl.ndarray.NDArray} nor in the PyTorch engine's JNI).</li>
 * </ul>
 *
 * <h2>Orientation</h2>
 * Factors follow {@code torch.nn.Linear}: {@code ΔW = U Vᵀ} is {@code [out, in]}. The graph keeps projections
 * {@code [in, out]} and applies the delta as {@code (x·V)·Uᵀ}; GPT-2's Conv1D checkpoints store {@code [in, out]}, so
 * materializing adds {@code V Uᵀ} there ({@link io.emend.core.delta.EditDeltaCheckpoint}).
 *
 * <h2>Known limits</h2>
 * AlphaEdit keeps the keys written by earlier batches in the editor object; a new process continues a sequence only
 * when handed them ({@code alphaedit.WrittenKeys}, which the editor service stores with each AlphaEdit version, as it
 * stores the base's {@code alphaedit.NullSpaceProjectors}). Prefix generation and target optimisation run one request
 * at a time.
 */
package io.emend.core.edit;
