package io.emend.serving.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.serving.Fixtures;
import io.emend.serving.model.ChatTemplate;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI Java client, unchanged, against the running service (standalone on stories260k, F32): the
 * answers parse, and greedy text is exactly what the engine generates on its own for the same prompt.
 */
@QuarkusTest
class OpenAiClientTest {

    static final String MODEL = "stories260k";

    @TestHTTPResource("/v1")
    URL base;

    OpenAIClient client;

    @BeforeEach
    void connect() {
        client = OpenAIOkHttpClient.builder().baseUrl(base.toString()).apiKey("not-checked").maxRetries(0).build();
    }

    @AfterEach
    void close() {
        client.close();
    }

    private CompletionCreateParams.Builder greedy(String prompt, int maxTokens) {
        return CompletionCreateParams.builder().model(MODEL).prompt(prompt).maxTokens(maxTokens).temperature(0.0);
    }

    @Test
    void greedyCompletionIsTheEnginesGreedyGeneration() {
        String prompt = "Once upon a time, there was a little dog";
        Completion c = client.completions().create(greedy(prompt, 40).build());
        CompletionChoice choice = c.choices().getFirst();
        String expected = Fixtures.greedy(Fixtures.stories(), Fixtures.encode(Fixtures.stories(), prompt), 40, null);
        assertEquals(expected, choice.text());
        assertEquals(MODEL, c.model());
        assertEquals(CompletionChoice.FinishReason.LENGTH, choice.finishReason());
        var usage = c.usage().orElseThrow();
        assertEquals(Fixtures.encode(Fixtures.stories(), prompt).length, usage.promptTokens());
        assertEquals(40, usage.completionTokens());
        assertEquals(usage.promptTokens() + 40, usage.totalTokens());
        assertTrue(c.systemFingerprint().orElseThrow().startsWith("emend-"));
    }

    @Test
    void goldenGenerationsFromLlama2c() {
        for (JsonNode golden : Fixtures.goldenGenerate().path("cases")) {
            List<Long> promptIds = new ArrayList<>();
            golden.path("prompt_ids").forEach(id -> promptIds.add(id.longValue()));
            int count = golden.path("ids").size();
            // the prompt goes in as token ids, exactly as the reference fed them (BOS included)
            Completion c = client.completions().create(CompletionCreateParams.builder().model(MODEL)
                    .prompt(CompletionCreateParams.Prompt.ofArrayOfTokens(promptIds)).maxTokens(count)
                    .temperature(0.0).build());
            // the reference decoded its continuation on its own, which drops the first token's leading space
            assertEquals(golden.path("text").asText().strip(), c.choices().getFirst().text().strip());
            assertEquals(count, c.usage().orElseThrow().completionTokens());
        }
    }

    @Test
    void streamedCompletionAddsUpToTheWholeOne() {
        String prompt = "The cat sat";
        String whole = client.completions().create(greedy(prompt, 30).build()).choices().getFirst().text();
        StringBuilder streamed = new StringBuilder();
        List<CompletionChoice.FinishReason> finishes = new ArrayList<>();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(greedy(prompt, 30).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                streamed.append(ch.text());
                ch._finishReason().asKnown().ifPresent(finishes::add);
            }));
        }
        assertEquals(whole, streamed.toString());
        assertEquals(List.of(CompletionChoice.FinishReason.LENGTH), finishes);
    }

    @Test
    void chatUsesThePlainTemplate() throws Exception {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(MODEL)
                .addSystemMessage("A story.").addUserMessage("Tell me about Lily.").maxCompletionTokens(24)
                .temperature(0.0).build();
        ChatCompletion chat = client.chat().completions().create(params);
        int[] prompt;
        try (Tokenizer tokenizer = Tokenizer.load(Fixtures.stories())) {
            prompt = new ChatTemplate.Plain().encode(tokenizer, List.of(new ChatTemplate.Message("system", "A story."),
                    new ChatTemplate.Message("user", "Tell me about Lily.")));
        }
        String expected = Fixtures.greedy(Fixtures.stories(), prompt, 24, null);
        assertEquals(expected, chat.choices().getFirst().message().content().orElseThrow());
        assertEquals(prompt.length, chat.usage().orElseThrow().promptTokens());

        StringBuilder streamed = new StringBuilder();
        List<String> roles = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                ch.delta().content().ifPresent(streamed::append);
                ch.delta().role().ifPresent(r -> roles.add(r.toString()));
            }));
        }
        assertEquals(expected, streamed.toString());
        assertEquals(List.of("assistant"), roles);
    }

    @Test
    void stopSequenceCutsTheTextAlsoWhenStreamed() {
        String prompt = "Once upon a time, there was a little dog";
        String free = client.completions().create(greedy(prompt, 40).build()).choices().getFirst().text();
        int at = free.indexOf('.');
        assertTrue(at > 0, "the greedy text has a sentence end to stop at: " + free);
        CompletionChoice stopped = client.completions().create(greedy(prompt, 40).stop(".").build()).choices().getFirst();
        assertEquals(free.substring(0, at), stopped.text());
        assertEquals(CompletionChoice.FinishReason.STOP, stopped.finishReason());

        // streamed, with a stop sequence that spans tokens ("og." or the like): the pieces that could begin it are
        // held back, so no chunk ever carries part of it
        assertTrue(at >= 3, "three characters before the sentence end: " + free);
        String stop = free.substring(at - 3, at + 1);
        StringBuilder streamed = new StringBuilder();
        List<CompletionChoice.FinishReason> finishes = new ArrayList<>();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(greedy(prompt, 40).stop(stop)
                .build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                streamed.append(ch.text());
                ch._finishReason().asKnown().ifPresent(finishes::add);
            }));
        }
        assertEquals(free.substring(0, free.indexOf(stop)), streamed.toString());
        assertEquals(List.of(CompletionChoice.FinishReason.STOP), finishes);
    }

    @Test
    void seededSamplingRepeatsAndDiffersFromGreedy() {
        CompletionCreateParams sampled = CompletionCreateParams.builder().model(MODEL).prompt("Tom had a")
                .maxTokens(30).temperature(1.0).topP(0.95).seed(42).build();
        String first = client.completions().create(sampled).choices().getFirst().text();
        String second = client.completions().create(sampled).choices().getFirst().text();
        assertEquals(first, second);
        String otherSeed = client.completions().create(sampled.toBuilder().seed(7).build()).choices().getFirst().text();
        assertNotEquals(first, otherSeed);
    }

    @Test
    void logprobsAreTheModelsLogSoftmax() {
        Completion c = client.completions().create(greedy("Lily went to the", 8).logprobs(3).build());
        CompletionChoice.Logprobs lp = c.choices().getFirst().logprobs().orElseThrow();
        List<String> tokens = lp.tokens().orElseThrow();
        List<Double> values = lp.tokenLogprobs().orElseThrow();
        assertEquals(8, tokens.size());
        assertEquals(8, values.size());
        assertEquals(c.choices().getFirst().text(), String.join("", tokens));
        var top = lp.topLogprobs().orElseThrow();
        for (int i = 0; i < tokens.size(); i++) {
            assertTrue(values.get(i) <= 0);
            @SuppressWarnings("unchecked")
            var alternatives = (java.util.Map<String, Object>) top.get(i)._additionalProperties().entrySet().stream()
                    .collect(java.util.stream.Collectors.toMap(java.util.Map.Entry::getKey,
                            e -> (Object) e.getValue().convert(Double.class)));
            assertEquals(3, alternatives.size());
            // greedy: the chosen token is the most likely one, so its log-probability is the largest alternative's
            double best = alternatives.values().stream().mapToDouble(v -> (Double) v).max().orElseThrow();
            assertEquals(best, values.get(i), 1e-9);
        }
        List<Long> offsets = lp.textOffset().orElseThrow();
        assertEquals("Lily went to the".length(), offsets.getFirst());
    }

    /** Chat logprobs in OpenAI's chat shape, read by the official client: one entry per token, the text's bytes. */
    @Test
    void chatLogprobsAreTheModelsLogSoftmax() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(MODEL)
                .addUserMessage("Tell me about Lily.").maxCompletionTokens(10).temperature(0.0)
                .logprobs(true).topLogprobs(2).build();
        ChatCompletion chat = client.chat().completions().create(params);
        var choice = chat.choices().getFirst();
        var content = choice.logprobs().orElseThrow().content().orElseThrow();
        assertEquals(chat.usage().orElseThrow().completionTokens(), content.size());
        StringBuilder joined = new StringBuilder();
        for (var token : content) {
            joined.append(token.token());
            assertEquals(token.token(), new String(token.bytes().orElseThrow().stream()
                    .map(Long::byteValue).collect(java.io.ByteArrayOutputStream::new, (o, b) -> o.write(b), (a, b) -> { })
                    .toByteArray(), java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(2, token.topLogprobs().size());
            // greedy: the chosen token is the most likely, so it is the first alternative
            assertEquals(token.topLogprobs().getFirst().logprob(), token.logprob(), 1e-9);
            assertTrue(token.logprob() <= 0);
        }
        assertEquals(choice.message().content().orElseThrow(), joined.toString());

        List<Double> streamed = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.logprobs()
                    .flatMap(ChatCompletionChunk.Choice.Logprobs::content)
                    .ifPresent(list -> list.forEach(t -> streamed.add(t.logprob())))));
        }
        assertEquals(content.stream().map(t -> t.logprob()).toList(), streamed);
    }

    @Test
    void modelsListTheServedModel() {
        List<Model> models = StreamSupport.stream(client.models().list().autoPager().spliterator(), false).toList();
        assertFalse(models.isEmpty());
        assertTrue(models.stream().anyMatch(m -> m.id().equals(MODEL)), models.toString());
        assertEquals(MODEL, client.models().retrieve(MODEL).id());
    }
}
