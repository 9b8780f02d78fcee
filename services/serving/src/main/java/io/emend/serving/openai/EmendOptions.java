package io.emend.serving.openai;

/**
 * Emend's own request field {@code "emend": {"adapter": "support-lora:3"}}: a delta for this request, the same as
 * {@code model: "base+support-lora:3"}.
 */
public record EmendOptions(String adapter) {
}
