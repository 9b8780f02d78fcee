/**
 * Fine-tuning on the differentiable graph: LoRA, DoRA and full fine-tuning of a loaded
 * {@link io.emend.core.graph.Transformer}, and the options that keep what the model knew.
 *
 * <p>{@link io.emend.core.train.TrainingData} reads JSONL ({@code text}, {@code prompt}/{@code completion},
 * {@code messages} with the model's own Jinja chat template, or a plain {@code <role>: content\n} template when it
 * has none) into packed rows with loss masks and a seeded held-out split; {@link io.emend.core.train.FineTuneJob}
 * runs AdamW with warmup + cosine, global-norm clipping, gradient accumulation and LoRA dropout, checks every loss
 * and gradient for NaN/Inf, checkpoints and resumes exactly, and writes a PEFT adapter
 * ({@link io.emend.core.delta.LoraDeltas}) or a merged Hugging Face directory. Anti-forgetting: replay
 * ({@link io.emend.core.train.forgetting.Replay}), L2-SP and O-LoRA penalties, and half fine-tuning
 * ({@link io.emend.core.train.forgetting.HalfFineTuning}).
 */
package io.emend.core.train;
