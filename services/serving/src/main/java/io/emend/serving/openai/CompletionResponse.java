package io.emend.serving.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;

/** A completion, or one chunk of a streamed one ({@code object: "text_completion"} either way, as OpenAI sends). */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CompletionResponse(String id, String object, long created, String model, String systemFingerprint,
        List<Choice> choices, Usage usage) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Choice(String text, int index, Logprobs logprobs, String finishReason) {
    }

    /** The legacy completion log-probabilities: parallel lists, one entry per generated token. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Logprobs(List<String> tokens, List<Double> tokenLogprobs, List<Map<String, Double>> topLogprobs,
            List<Integer> textOffset) {
    }
}
