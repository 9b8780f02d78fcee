package io.emend.serving.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.emend.serving.batch.TokenOutput;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A chat choice's {@code logprobs} as OpenAI's chat API shapes it: {@code {"content": [{token, logprob, bytes,
 * top_logprobs: [{token, logprob, bytes}]}]}}, one entry per generated token (a streamed chunk carries its own).
 */
public record ChatLogprobs(List<Content> content) {

    /** One generated token; {@code bytes} are its UTF-8 bytes (0-255), so clients can rejoin split characters. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Content(String token, double logprob, List<Integer> bytes, List<Top> topLogprobs) {
    }

    /** One of the most likely tokens at that position. */
    public record Top(String token, double logprob, List<Integer> bytes) {
    }

    /** The entry for one token's log-probability as the decode loop reports it. */
    static Content of(TokenOutput.TokenLogprob lp) {
        List<Top> top = new ArrayList<>(lp.top().size());
        lp.top().forEach((piece, value) -> top.add(new Top(piece, value, bytes(piece))));
        return new Content(lp.piece(), lp.value(), bytes(lp.piece()), top);
    }

    private static List<Integer> bytes(String text) {
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        List<Integer> out = new ArrayList<>(raw.length);
        for (byte b : raw) {
            out.add(b & 0xff);
        }
        return out;
    }
}
