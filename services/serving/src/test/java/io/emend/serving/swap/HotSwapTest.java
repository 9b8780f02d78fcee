package io.emend.serving.swap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.emend.serving.Fixtures;
import io.emend.serving.metrics.ServingMetrics;
import io.emend.serving.model.LoadedModel;
import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelFiles;
import io.emend.serving.model.ModelVersion;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A swap under concurrent streaming load: every request succeeds, and every response comes whole from one version
 * (one fingerprint in all its chunks, and exactly that version's greedy text).
 */
@QuarkusTest
class HotSwapTest {

    static final String MODEL = "stories260k";
    static final String PROMPT = "Once upon a time, there was a little dog";
    static final int TOKENS = 60;

    @TestHTTPResource("/v1")
    URL base;

    @Inject
    ModelCatalog models;

    @Inject
    SwapController swaps;

    @Inject
    ServingMetrics metrics;

    @Test
    void swapUnderStreamingLoadFailsNothingAndMixesNothing() throws Exception {
        models.ensure(MODEL);
        LoadedModel original = models.current(MODEL).orElseThrow();
        ModelFiles originalFiles = models.source().base(MODEL);
        Path dirB = Fixtures.perturbedStories(Path.of("target", "hot-swap", "stories260k-b"));
        ModelFiles filesB = new ModelFiles(new ModelVersion(MODEL, Optional.empty(), "b".repeat(64)), dirB, Optional.empty());
        int[] prompt = Fixtures.encode(Fixtures.stories(), PROMPT);
        String textA = Fixtures.greedy(Fixtures.stories(), prompt, TOKENS, null);
        String textB = Fixtures.greedy(dirB, prompt, TOKENS, null);
        assertNotEquals(textA, textB, "the two versions must be told apart by their text");
        Map<String, String> expected = Map.of(original.version().fingerprint(), textA,
                filesB.version().fingerprint(), textB);

        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(base.toString()).apiKey("x").maxRetries(0).build();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> byVersion = new ConcurrentHashMap<>();
        CountDownLatch streaming = new CountDownLatch(4);
        double swapsBefore = metrics.swaps();
        int streams = 4;
        int rounds = 6;
        Thread[] threads = new Thread[streams];
        try {
            for (int s = 0; s < streams; s++) {
                threads[s] = Thread.ofPlatform().start(() -> {
                    for (int r = 0; r < rounds; r++) {
                        boolean firstRound = r == 0;
                        try {
                            Set<String> fingerprints = new HashSet<>();
                            StringBuilder text = new StringBuilder();
                            try (StreamResponse<Completion> stream = client.completions().createStreaming(
                                    CompletionCreateParams.builder().model(MODEL).prompt(PROMPT).maxTokens(TOKENS)
                                            .temperature(0.0).build())) {
                                stream.stream().forEach(chunk -> {
                                    fingerprints.add(chunk.systemFingerprint().orElseThrow());
                                    chunk.choices().forEach(c -> text.append(c.text()));
                                    if (firstRound && text.length() > 0 && streaming.getCount() > 0) {
                                        streaming.countDown();
                                    }
                                });
                            }
                            assertEquals(1, fingerprints.size(), "one response, one version: " + fingerprints);
                            String fingerprint = fingerprints.iterator().next();
                            assertEquals(expected.get(fingerprint), text.toString(), "text of " + fingerprint);
                            byVersion.computeIfAbsent(fingerprint, k -> new AtomicInteger()).incrementAndGet();
                        } catch (Throwable t) {
                            failures.add(t);
                        }
                    }
                });
            }
            streaming.await();
            // the swap happens while streams are mid-response
            Optional<ModelVersion> previous = swaps.swap(MODEL, filesB);
            assertEquals(Optional.of(original.version()), previous);
            for (Thread t : threads) {
                t.join();
            }
        } finally {
            client.close();
            swaps.swap(MODEL, originalFiles);
        }
        assertEquals(List.of(), failures);
        assertEquals(streams * rounds, byVersion.values().stream().mapToInt(AtomicInteger::get).sum());
        assertTrue(byVersion.containsKey(filesB.version().fingerprint()), "requests after the swap went to B: " + byVersion);
        assertEquals(swapsBefore + 2, metrics.swaps());
        // the first version went away once nothing used it; the original files load again as a fresh model
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!original.isClosed() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(original.isClosed(), "the swapped-out version was unloaded");
        assertEquals(original.version(), models.current(MODEL).orElseThrow().version());
        assertTrue(swaps.swap(MODEL, originalFiles).isEmpty(), "swapping to the version already served changes nothing");
    }
}
