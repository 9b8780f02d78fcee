package io.emend.serving.openai;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/** {@code POST /v1/chat/completions} (the fields this service reads). */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ChatCompletionRequest(
        String model,
        List<ChatMessage> messages,
        Integer maxTokens,
        Integer maxCompletionTokens,
        Double temperature,
        Double topP,
        Long seed,
        @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> stop,
        Integer n,
        Boolean stream,
        StreamOptions streamOptions,
        Boolean logprobs,
        Integer topLogprobs,
        Double presencePenalty,
        Double frequencyPenalty,
        EmendOptions emend) {

    /**
     * One message; {@code content} is a string or a list of parts of which only {@code {"type":"text"}} ones are
     * understood.
     */
    public record ChatMessage(String role, JsonNode content) {
    }
}
