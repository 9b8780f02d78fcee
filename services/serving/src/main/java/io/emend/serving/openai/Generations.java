package io.emend.serving.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.emend.core.generate.SamplingParams;
import io.emend.core.infer.Adapter;
import io.emend.serving.ServingConfig;
import io.emend.serving.batch.GenerationRequest;
import io.emend.serving.model.AdapterCatalog;
import io.emend.serving.model.ChatTemplate;
import io.emend.serving.model.InvalidRequest;
import io.emend.serving.model.LoadedModel;
import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelName;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns OpenAI requests into generations on the decode loop: checks every parameter the way OpenAI does (unknown
 * values are 400s naming the parameter), picks the model version and adapter, tokenizes, and queues the request.
 */
@ApplicationScoped
public class Generations {

    /** OpenAI's limits: up to 4 stop sequences, at most 5 log-probability alternatives, temperature in [0, 2]. */
    static final int MAX_STOP = 4;
    static final int MAX_LOGPROBS = 5;
    static final double MAX_TEMPERATURE = 2.0;

    private final ModelCatalog models;
    private final AdapterCatalog adapters;
    private final int defaultMaxTokens;

    public Generations(ModelCatalog models, AdapterCatalog adapters, ServingConfig config) {
        this.models = models;
        this.adapters = adapters;
        this.defaultMaxTokens = config.batching().defaultMaxTokens();
    }

    /** Sampling parameters common to both endpoints, as the request gave them (null when absent). */
    record Sampling(Integer maxTokens, Double temperature, Double topP, Long seed, List<String> stop, Integer n) {
    }

    /** What to feed the model: text, token ids, or chat messages. */
    sealed interface Prompt {
        record Text(String text) implements Prompt {
        }

        record Ids(int[] ids) implements Prompt {
        }

        record Chat(List<ChatTemplate.Message> messages) implements Prompt {
        }
    }

    public RunningGeneration completion(CompletionRequest r) {
        if (r.bestOf() != null && r.bestOf() != 1) {
            throw new InvalidRequest("best_of", "only best_of = 1 is supported");
        }
        if (Boolean.TRUE.equals(r.echo())) {
            throw new InvalidRequest("echo", "echo is not supported");
        }
        if (r.suffix() != null && !r.suffix().isEmpty()) {
            throw new InvalidRequest("suffix", "suffix (insertion) is not supported");
        }
        if (r.logprobs() != null && (r.logprobs() < 0 || r.logprobs() > MAX_LOGPROBS)) {
            throw new InvalidRequest("logprobs", "must be between 0 and " + MAX_LOGPROBS + ", got " + r.logprobs());
        }
        checkPenalties(r.presencePenalty(), r.frequencyPenalty());
        return start(r.model(), r.emend(), prompt(r.prompt()),
                new Sampling(r.maxTokens(), r.temperature(), r.topP(), r.seed(), r.stop(), r.n()),
                r.logprobs() == null ? -1 : r.logprobs(), defaultMaxTokens);
    }

    public RunningGeneration chat(ChatCompletionRequest r) {
        if (r.messages() == null || r.messages().isEmpty()) {
            throw new InvalidRequest("messages", "at least one message is required");
        }
        boolean logprobs = Boolean.TRUE.equals(r.logprobs());
        if (r.topLogprobs() != null && !logprobs) {
            throw new InvalidRequest("top_logprobs", "top_logprobs needs logprobs: true");
        }
        if (r.topLogprobs() != null && (r.topLogprobs() < 0 || r.topLogprobs() > MAX_LOGPROBS)) {
            throw new InvalidRequest("top_logprobs", "must be between 0 and " + MAX_LOGPROBS + ", got "
                    + r.topLogprobs());
        }
        checkPenalties(r.presencePenalty(), r.frequencyPenalty());
        if (r.maxTokens() != null && r.maxCompletionTokens() != null && !r.maxTokens().equals(r.maxCompletionTokens())) {
            throw new InvalidRequest("max_completion_tokens", "differs from max_tokens; give one of them");
        }
        List<ChatTemplate.Message> messages = new ArrayList<>();
        for (int i = 0; i < r.messages().size(); i++) {
            var m = r.messages().get(i);
            String field = "messages[" + i + "]";
            if (m == null || m.role() == null) {
                throw new InvalidRequest(field + ".role", "every message needs a role");
            }
            if (!Set.of("system", "developer", "user", "assistant").contains(m.role())) {
                throw new InvalidRequest(field + ".role", "'" + m.role()
                        + "' is not one of system, developer, user, assistant");
            }
            messages.add(new ChatTemplate.Message(m.role(), content(field + ".content", m.content())));
        }
        Integer max = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
        // a chat reply without max_tokens may run to the end of the context, as OpenAI's does
        return start(r.model(), r.emend(), new Prompt.Chat(messages),
                new Sampling(max, r.temperature(), r.topP(), r.seed(), r.stop(), r.n()),
                logprobs ? (r.topLogprobs() == null ? 0 : r.topLogprobs()) : -1, Integer.MAX_VALUE);
    }

    private RunningGeneration start(String model, EmendOptions emend, Prompt prompt, Sampling s, int logprobs,
            int defaultMax) {
        ModelName name = ModelName.parse("model", model);
        if (emend != null && emend.adapter() != null) {
            name = name.withAdapter("emend.adapter", emend.adapter());
        }
        if (s.n() != null && s.n() != 1) {
            throw new InvalidRequest("n", "only n = 1 is supported, got " + s.n());
        }
        double temperature = s.temperature() == null ? 1.0 : s.temperature();
        if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
            throw new InvalidRequest("temperature", "must be between 0 and " + MAX_TEMPERATURE + ", got " + temperature);
        }
        double topP = s.topP() == null ? 1.0 : s.topP();
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidRequest("top_p", "must be greater than 0 and at most 1, got " + topP);
        }
        if (s.maxTokens() != null && s.maxTokens() < 1) {
            throw new InvalidRequest("max_tokens", "must be at least 1, got " + s.maxTokens());
        }
        List<String> stop = s.stop() == null ? List.of() : s.stop();
        if (stop.size() > MAX_STOP) {
            throw new InvalidRequest("stop", "at most " + MAX_STOP + " stop sequences, got " + stop.size());
        }
        for (String st : stop) {
            if (st == null || st.isEmpty()) {
                throw new InvalidRequest("stop", "stop sequences must be non-empty strings");
            }
        }
        long seed = s.seed() != null ? s.seed() : ThreadLocalRandom.current().nextLong();

        LoadedModel.Lease lease = models.lease(name.base());
        try {
            LoadedModel loaded = lease.model();
            Optional<Adapter> requested = name.adapter().map(a -> adapters.adapter(a, loaded, lease.version()));
            Adapter adapter = lease.delta().map(served -> requested.map(r -> served.plus(served.name() + "+"
                    + r.name(), r)).orElse(served)).orElse(requested.orElse(null));
            int[] ids;
            String promptText = "";
            String param;
            switch (prompt) {
                case Prompt.Text t -> {
                    ids = loaded.tokenizer().encode(t.text(), true);
                    promptText = t.text();
                    param = "prompt";
                }
                case Prompt.Ids i -> {
                    ids = i.ids();
                    int vocab = loaded.decoder().config().vocabSize();
                    for (int id : ids) {
                        if (id < 0 || id >= vocab) {
                            throw new InvalidRequest("prompt", "token id " + id + " is outside the vocabulary [0, "
                                    + vocab + ")");
                        }
                    }
                    param = "prompt";
                }
                case Prompt.Chat c -> {
                    ids = loaded.chatTemplate().encode(loaded.tokenizer(), c.messages());
                    param = "messages";
                }
            }
            if (ids.length == 0) {
                throw new InvalidRequest("prompt", "the prompt has no tokens (and the model has no BOS token)");
            }
            if (ids.length >= loaded.contextLength()) {
                throw new ContextLengthExceeded(param, ids.length, loaded.contextLength());
            }
            int maxTokens = s.maxTokens() != null ? s.maxTokens() : Math.min(defaultMax, loaded.contextLength() - ids.length);
            SamplingParams sampling = new SamplingParams(temperature, 0, topP, seed, maxTokens, stop);
            Set<Integer> endTokens = prompt instanceof Prompt.Chat
                    ? loaded.chatTemplate().endTokens(loaded.tokenizer()) : Set.of();
            RunningGeneration running = new RunningGeneration(lease, ids.length, promptText);
            running.started(loaded.scheduler().submit(new GenerationRequest(ids, sampling, adapter, logprobs, endTokens),
                    running));
            return running;
        } catch (RuntimeException | Error e) {
            lease.close();
            throw e;
        }
    }

    private static void checkPenalties(Double presence, Double frequency) {
        if (presence != null && presence != 0) {
            throw new InvalidRequest("presence_penalty", "penalties are not supported; leave it out or send 0");
        }
        if (frequency != null && frequency != 0) {
            throw new InvalidRequest("frequency_penalty", "penalties are not supported; leave it out or send 0");
        }
    }

    private static Prompt prompt(JsonNode p) {
        if (p == null || p.isNull()) {
            throw new InvalidRequest("prompt", "a prompt is required (a string, a list of one string, or token ids)");
        }
        if (p.isTextual()) {
            return new Prompt.Text(p.textValue());
        }
        if (p.isArray()) {
            if (p.size() == 1 && p.get(0).isTextual()) {
                return new Prompt.Text(p.get(0).textValue());
            }
            if (p.size() == 1 && p.get(0).isArray()) {
                return prompt(p.get(0));
            }
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!p.get(i).isIntegralNumber() || !p.get(i).canConvertToInt()) {
                    throw new InvalidRequest("prompt", p.get(i).isTextual()
                            ? "only one prompt per request is supported (n = 1, no batches of prompts)"
                            : "a list prompt must hold token ids (integers)");
                }
                ids[i] = p.get(i).intValue();
            }
            return new Prompt.Ids(ids);
        }
        throw new InvalidRequest("prompt", "must be a string, a list of one string, or a list of token ids");
    }

    private static String content(String field, JsonNode c) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (c.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw new InvalidRequest(field, "only text content parts are supported");
                }
                text.append(part.path("text").textValue());
            }
            return text.toString();
        }
        throw new InvalidRequest(field, "must be a string or a list of text parts");
    }
}
