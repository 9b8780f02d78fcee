package io.emend.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.generate.Sampler;
import io.emend.core.delta.EditDelta;
import io.emend.core.delta.EditDeltaCheckpoint;
import io.emend.core.edit.EditDefaults;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.KnowledgeEditor;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.Progress;
import io.emend.core.edit.memit.MemitEditor;
import io.emend.core.graph.Transformer;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import io.emend.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The shared fixtures, and the engine's own greedy generation that the service's answers are compared with. */
public final class Fixtures {

    private Fixtures() {
    }

    public static Path stories() {
        return Path.of(System.getProperty("emend.fixtures", "../../../shared/fixtures")).resolve("stories260k");
    }

    public static JsonNode goldenGenerate() {
        try {
            return new ObjectMapper().readTree(Files.readString(stories().resolve("golden_generate.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Greedy text straight from the engine (F32, no batching, no service): prefill, then argmax until EOS or max. */
    public static String greedy(Path dir, int[] prompt, int maxTokens, Adapter adapter) {
        try (Decoder decoder = Decoder.load(dir, Optional.empty(), QuantRule.parse("f32"), 1);
             Tokenizer tokenizer = Tokenizer.load(dir)) {
            Sequence seq = decoder.newSequence(adapter);
            float[] logits = decoder.prefill(seq, prompt, 64);
            int[] out = new int[maxTokens];
            int n = 0;
            while (n < maxTokens && prompt.length + n < decoder.config().maxPositions()) {
                int next = Sampler.argmax(logits);
                if (next == tokenizer.eosId()) {
                    break;
                }
                out[n++] = next;
                if (n == maxTokens) {
                    break;
                }
                logits = decoder.step(java.util.List.of(Decoder.Chunk.next(seq, next))).getFirst()[0];
            }
            // the reply as it continues the prompt's text (a first token's leading space is kept)
            int[] all = Arrays.copyOf(prompt, prompt.length + n);
            System.arraycopy(out, 0, all, prompt.length, n);
            String whole = tokenizer.decode(all);
            String head = tokenizer.decode(prompt);
            if (!whole.startsWith(head)) {
                throw new AssertionError("the prompt's text changed when the reply was appended: " + whole);
            }
            return whole.substring(head.length());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A second version of stories260k in {@code target}: the same files, with one MLP matrix scaled, so that its greedy
     * text differs (the hot-swap tests need two versions whose outputs tell them apart).
     */
    public static Path perturbedStories(Path target) {
        try {
            Files.createDirectories(target);
            for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
                Files.copy(stories().resolve(f), target.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            try (var in = io.emend.core.format.safetensors.SafetensorsFile.open(stories().resolve("model.safetensors"));
                 var out = io.emend.core.format.safetensors.SafetensorsWriter.create(target.resolve("model.safetensors"),
                         in.tensors(), java.util.Map.of("format", "pt"))) {
                for (var t : in.tensors()) {
                    float[] values = in.floats(t.name());
                    if (t.name().equals("model.layers.0.mlp.down_proj.weight")) {
                        for (int i = 0; i < values.length; i++) {
                            values[i] *= 1.8f;
                        }
                    }
                    out.write(t.name(), values);
                }
                out.commit();
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An edit version of {@code base} in {@code out} as services/editor lays one out: MEMIT with the editor's defaults
     * for the architecture (core's {@link MemitEditor} through {@link EditDefaults}, key statistics over the fixture's
     * TinyStories text), the edited model materialized beside the factors ({@code edit_delta.safetensors}). The key
     * statistics artifact the editor adds is left out: serving never reads it.
     *
     * @return the factors, for tests that apply them directly
     */
    public static EditDelta memitEdit(Path base, Path out, List<EditRequest> requests) {
        try (Transformer model = Transformer.open(base, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(base)) {
            KnowledgeEditor editor = EditDefaults.editor(EditMethod.MEMIT, model.config(), Optional.empty());
            KeyStatistics stats = KeyStatistics.compute(model, tokenizer,
                    Files.readString(stories().resolve("tinystories-valid.txt")), editor.layers(), 2000, Progress.NONE);
            List<PreparedEdit> prepared = PreparedEdit.prepare(requests, tokenizer, model,
                    PreparedEdit.prefixes(model, tokenizer, 2, 10, 0), requests.size());
            EditDelta delta = editor.edit(model, EditDelta.empty(EditMethod.MEMIT.id()), prepared, stats, Progress.NONE);
            if (Files.exists(out)) {
                try (var walk = Files.walk(out)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            EditDeltaCheckpoint.materialize(delta, base, out);
            delta.write(out.resolve(EditDelta.FILE_NAME));
            return delta;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] encode(Path dir, String text) {
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            return tokenizer.encode(text, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
