/**
 * Merging models: the {@link io.emend.core.merge.MergeMethod} family (linear / model soup, task arithmetic, TIES,
 * DARE, SLERP without gradients; AdaMerging with gradients on its coefficients only) found by name in {@link io.emend.core.merge.MergeCatalog}, each merging one
 * tensor in chunks from {@link io.emend.core.merge.TensorView}s.
 *
 * <ul>
 *   <li>{@code recipe}: mergekit-style YAML/JSON recipes; every unsupported key or value is rejected with its line.</li>
 *   <li>{@code plan}: a recipe made concrete against model directories ({@code MergePlan}) and streamed tensor by
 *       tensor from memory-mapped safetensors into a sharded output ({@code MergeExecutor}); the heap holds a few
 *       chunks and the resident set about one output tensor, whatever the model size.</li>
 *   <li>{@code adamerging}: AdaMerging's coefficient search, run by {@code MergePlan} before an {@code adamerging}
 *       merge: task vectors held on core's DJL graph, the merged model's entropy on unlabeled text minimized by Adam
 *       over task-wise or layer-wise coefficients.</li>
 *   <li>{@code lora}: PEFT LoRA adapters combined (concatenation, linear, TIES/DARE on the dense products
 *       re-factorized by a plain-Java truncated SVD with its reconstruction error) and materialized into a base,
 *       also into a base served quantized (dequantize, merge, requantize) with the perplexity change measured.</li>
 * </ul>
 *
 * Parameter values follow mergekit: a scalar, a gradient (numbers spread over the layers of a slice, linearly
 * interpolated), or {@code filter}/{@code value} conditionals matched as substrings of the tensor name. All arithmetic
 * runs in double over F32-widened inputs, so merging a model with itself returns it bit for bit in F32.
 */
package io.emend.core.merge;
