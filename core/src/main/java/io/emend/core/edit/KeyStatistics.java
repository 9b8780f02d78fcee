package io.emend.core.edit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.ForwardResult;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.Probe;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The uncentred second moment {@code C = E[k kᵀ]} of the MLP down-projection's input keys, per layer, over the tokens
 * of a text corpus: what ROME, MEMIT and AlphaEdit use to say "how much do ordinary inputs use this direction". It
 * depends only on the base weights and the corpus, so it is computed once per base and stored as a safetensors file
 * (one {@code [keyDim, keyDim]} F32 tensor {@code layers.<i>.mom2} per layer) whose metadata records the corpus
 * digest and token count; every later edit of that base reuses it.
 *
 * @param keyDim   the MLP width (rows of the down-projection's input)
 * @param tokens   tokens the moments average over
 * @param corpus   sha256 of the corpus text (UTF-8), hex
 * @param moments  layer index to its {@code [keyDim, keyDim]} second moment
 */
public record KeyStatistics(int keyDim, long tokens, String corpus, Map<Integer, Matrix> moments) {

    static final String FORMAT = "emend.key_statistics";
    static final String FORMAT_VERSION = "1";

    public KeyStatistics {
        moments = java.util.Collections.unmodifiableMap(new TreeMap<>(moments));
        for (Map.Entry<Integer, Matrix> e : moments.entrySet()) {
            Matrix m = e.getValue();
            if (m.rows() != keyDim || m.cols() != keyDim) {
                throw new IllegalArgumentException("layer " + e.getKey() + " moment is " + m.rows() + "x" + m.cols()
                        + ", expected " + keyDim + "x" + keyDim);
            }
        }
    }

    /**
     * The moment of one layer.
     *
     * @throws IllegalArgumentException naming the layers available when it is absent
     */
    public Matrix layer(int layer) {
        Matrix m = moments.get(layer);
        if (m == null) {
            throw new IllegalArgumentException("key statistics have no layer " + layer + " (they cover layers "
                    + moments.keySet() + "); recompute them for the layers being edited");
        }
        return m;
    }

    /** Fails unless every layer is covered and the key width matches the model. */
    public void requireFits(Transformer model, List<Integer> layers) {
        int width = keyWidth(model);
        if (width != keyDim) {
            throw new IllegalArgumentException("key statistics are for keys of width " + keyDim + ", the model's MLP is "
                    + width + " wide: they belong to another base model");
        }
        for (int l : layers) {
            layer(l);
        }
    }

    /** The width of the model's MLP down-projection input. */
    public static int keyWidth(Transformer model) {
        return (int) model.parameter(model.mlpDownProjection(0)).getShape().get(0);
    }

    /**
     * Estimates the moments over at most {@code maxTokens} tokens of {@code text}. The text is split into documents on
     * blank lines (as {@code eval.Perplexity} does); each document, with its BOS, is cut into windows of {@code window}
     * tokens, and windows are run in batches of {@code batchRows}; every real token's key counts once.
     *
     * @throws java.util.concurrent.CancellationException when the progress asks to stop (checked between batches)
     * @throws IllegalArgumentException                   when the text has no tokens
     */
    public static KeyStatistics compute(Transformer model, Tokenizer tokenizer, String text, List<Integer> layers,
                                        long maxTokens, Progress progress) {
        int window = Math.min(256, model.config().maxPositions());
        int batchRows = 8;
        List<int[]> windows = new ArrayList<>();
        long planned = 0;
        for (String doc : text.split("\n\n")) {
            if (doc.isEmpty()) {
                continue;
            }
            int[] ids = tokenizer.encode(doc, true);
            for (int from = 0; from < ids.length && planned < maxTokens; from += window) {
                int to = (int) Math.min(ids.length, Math.min(from + window, from + maxTokens - planned));
                windows.add(java.util.Arrays.copyOfRange(ids, from, to));
                planned += to - from;
            }
            if (planned >= maxTokens) {
                break;
            }
        }
        if (planned == 0) {
            throw new IllegalArgumentException("the key-statistics corpus has no tokens");
        }
        int d = keyWidth(model);
        Map<Integer, double[]> sums = new LinkedHashMap<>();
        for (int l : layers) {
            if (l < 0 || l >= model.layers()) {
                throw new IllegalArgumentException("layer " + l + " is outside the model's " + model.layers()
                        + " layers");
            }
            sums.put(l, new double[d * d]);
        }
        Probe[] probes = layers.stream().map(Probe::mlpDownInput).toArray(Probe[]::new);
        ForwardOptions options = ForwardOptions.defaults().withCaptures(probes).withLogits(LogitsScope.NONE);
        long done = 0;
        progress.report("key statistics", 0, planned);
        try (NDManager scope = NDManager.newBaseManager()) {
            for (int from = 0; from < windows.size(); from += batchRows) {
                progress.checkCancelled();
                List<int[]> rows = windows.subList(from, Math.min(windows.size(), from + batchRows));
                TokenBatch batch = TokenBatch.padded(rows, TokenBatch.Padding.RIGHT, 0);
                try (NDManager step = scope.newSubManager()) {
                    ForwardResult result = model.forward(step, batch, options);
                    float[] mask = new float[batch.batchSize() * batch.length()];
                    for (int b = 0; b < batch.batchSize(); b++) {
                        for (int t = 0; t < batch.length(); t++) {
                            mask[b * batch.length() + t] = batch.real(b, t) ? 1f : 0f;
                        }
                    }
                    NDArray m = step.create(mask, new Shape((long) batch.batchSize() * batch.length(), 1));
                    for (int l : layers) {
                        NDArray keys = result.captured(Probe.mlpDownInput(l)).reshape(-1, d).mul(m);
                        float[] gram = keys.transpose().matMul(keys).toFloatArray();
                        double[] sum = sums.get(l);
                        for (int i = 0; i < gram.length; i++) {
                            sum[i] += gram[i];
                        }
                    }
                }
                for (int[] r : rows) {
                    done += r.length;
                }
                progress.report("key statistics", done, planned);
            }
        }
        Map<Integer, Matrix> moments = new TreeMap<>();
        for (Map.Entry<Integer, double[]> e : sums.entrySet()) {
            double[] v = e.getValue();
            for (int i = 0; i < v.length; i++) {
                v[i] /= done;
            }
            moments.put(e.getKey(), new Matrix(d, d, v));
        }
        return new KeyStatistics(d, done, sha256(text), moments);
    }

    /** Writes the moments as safetensors (temp file + atomic rename), with the provenance in the metadata. */
    public void write(Path file) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        for (int l : moments.keySet()) {
            infos.add(new TensorInfo(tensorName(l), DType.F32, new long[] {keyDim, keyDim}));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", FORMAT_VERSION);
        meta.put("site", "mlp_down_input");
        meta.put("key_dim", Integer.toString(keyDim));
        meta.put("tokens", Long.toString(tokens));
        meta.put("corpus_sha256", corpus);
        try (SafetensorsWriter w = SafetensorsWriter.create(file, infos, meta)) {
            for (int l : moments.keySet()) {
                w.write(tensorName(l), moments.get(l).toFloats());
            }
            w.commit();
        }
    }

    /**
     * @throws MalformedFileException when the file is not key statistics (wrong format tag, shapes or metadata)
     */
    public static KeyStatistics read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new MalformedFileException(file, "metadata format is " + meta.get("format") + ", expected "
                        + FORMAT);
            }
            int d;
            long tokens;
            try {
                d = Integer.parseInt(meta.getOrDefault("key_dim", ""));
                tokens = Long.parseLong(meta.getOrDefault("tokens", ""));
            } catch (NumberFormatException e) {
                throw new MalformedFileException(file, "metadata key_dim and tokens must be integers");
            }
            Map<Integer, Matrix> moments = new TreeMap<>();
            for (TensorInfo t : f.tensors()) {
                String name = t.name();
                if (!name.startsWith("layers.") || !name.endsWith(".mom2")) {
                    throw new MalformedFileException(file, "unexpected tensor " + name);
                }
                int layer;
                try {
                    layer = Integer.parseInt(name.substring("layers.".length(), name.length() - ".mom2".length()));
                } catch (NumberFormatException e) {
                    throw new MalformedFileException(file, "tensor " + name + " does not name a layer");
                }
                long[] s = t.shape();
                if (s.length != 2 || s[0] != d || s[1] != d) {
                    throw new MalformedFileException(file, "tensor " + name + " has shape "
                            + java.util.Arrays.toString(s) + ", expected [" + d + ", " + d + "]");
                }
                moments.put(layer, Matrix.ofFloats(d, d, f.floats(name)));
            }
            return new KeyStatistics(d, tokens, meta.getOrDefault("corpus_sha256", ""), moments);
        }
    }

    static String tensorName(int layer) {
        return "layers." + layer + ".mom2";
    }

    static String sha256(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
