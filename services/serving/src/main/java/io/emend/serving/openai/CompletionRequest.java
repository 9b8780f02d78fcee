package io.emend.serving.openai;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/** {@code POST /v1/completions}, OpenAI's legacy completion request (the fields this service reads). */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CompletionRequest(
        String model,
        /* a string, a list of one string, or a list of token ids */
        JsonNode prompt,
        Integer maxTokens,
        Double temperature,
        Double topP,
        Long seed,
        @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> stop,
        Integer n,
        Integer bestOf,
        Boolean stream,
        StreamOptions streamOptions,
        Integer logprobs,
        Boolean echo,
        String suffix,
        Double presencePenalty,
        Double frequencyPenalty,
        EmendOptions emend) {
}
