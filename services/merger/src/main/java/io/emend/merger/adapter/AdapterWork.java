package io.emend.merger.adapter;

import io.emend.core.infer.QuantRule;
import io.emend.core.merge.lora.AdapterMaterializer;
import io.emend.core.merge.lora.AdapterMerge;
import io.emend.core.merge.lora.LoraAdapter;
import io.emend.core.merge.lora.QuantizedMaterializer;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.quant.WeightFormat;
import io.emend.merger.job.Produced;
import io.emend.merger.text.TextFiles;
import io.emend.service.input.InputCache;
import io.emend.service.registry.NewVersion;
import io.emend.service.registry.RegistryClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs an adapter request inside a job: fetches the pinned adapters (and, to materialize, the base) through the
 * verified input cache, then either combines the adapters with core's {@link AdapterMerge} into a PEFT adapter
 * directory, or folds the adapter into the base with {@link AdapterMaterializer} (or, for a quantized serving rule,
 * {@link QuantizedMaterializer}) and, when an evaluation text is named, measures the perplexity of the adapter served
 * unmerged against the materialized model.
 */
@ApplicationScoped
public class AdapterWork {

    private final RegistryClient registry;
    private final InputCache cache;
    private final TextFiles texts;

    AdapterWork(RegistryClient registry, InputCache cache, TextFiles texts) {
        this.registry = registry;
        this.cache = cache;
        this.texts = texts;
    }

    /** Pins and checks a request's inputs at submission; see {@link AdapterInputs}. */
    public AdapterInputs.Pinned pin(AdapterRequest request, Path scratch) throws IOException {
        if (request instanceof AdapterRequest.Materialization m && m.evaluation().isPresent()) {
            texts.check("evaluation.text", texts.parse("evaluation.text", m.evaluation().get()));
        }
        return AdapterInputs.pin(request, registry, cache, scratch);
    }

    /** Makes the request's result under {@code work}. */
    public Produced produce(AdapterRequest request, AdapterInputs.Pinned pinned, Path work, Produced.Progress progress)
            throws IOException {
        List<Path> adapterDirs = new ArrayList<>();
        int i = 0;
        for (String exact : pinned.adapters().values()) {
            progress.report(0.05, "fetching adapter " + exact);
            adapterDirs.add(cache.materialize(registry.resolve(exact), work.resolve("inputs").resolve(Integer.toString(i++))));
        }
        List<LoraAdapter> adapters = new ArrayList<>();
        for (Path dir : adapterDirs) {
            adapters.add(LoraAdapter.read(dir));
        }
        Path out = work.resolve("output");
        return switch (request) {
            case AdapterRequest.Combination c -> combine(c, pinned, adapters, out, progress);
            case AdapterRequest.Materialization m -> materialize(m, pinned, adapters.getFirst(), work, out, progress);
        };
    }

    private static Produced combine(AdapterRequest.Combination request, AdapterInputs.Pinned pinned,
                                    List<LoraAdapter> adapters, Path out, Produced.Progress progress)
            throws IOException {
        progress.report(0.2, "combining " + adapters.size() + " adapters (" + request.method() + ")");
        AdapterMerge.Result result = AdapterMerge.combine(adapters, request.weights(), request.how(),
                request.density(), request.rank().orElse(0), request.seed());
        result.adapter().write(out);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("rank", result.adapter().config().r());
        metrics.put("reconstruction_error", Map.of("max", result.maxError(), "modules", result.reconstructionError()));
        // the result is a new adapter of the same base, built from each input adapter
        List<NewVersion.Parent> parents = new ArrayList<>();
        parents.add(new NewVersion.Parent(pinned.base(), "adapter-of"));
        pinned.adapters().values().forEach(a -> parents.add(new NewVersion.Parent(a, "merged-from")));
        return new Produced(out, files(out), parents, metrics, null);
    }

    private Produced materialize(AdapterRequest.Materialization request, AdapterInputs.Pinned pinned,
                                 LoraAdapter adapter, Path work, Path out, Produced.Progress progress)
            throws IOException {
        progress.report(0.1, "fetching base " + pinned.base());
        Path base = cache.materialize(registry.resolve(pinned.base()), work.resolve("base"));
        progress.report(0.3, "materializing " + pinned.adapters().values().iterator().next() + " into " + pinned.base()
                + request.quantization().map(r -> " through " + r).orElse(""));
        if (request.quantization().isPresent()) {
            QuantizedMaterializer.materialize(base, adapter, request.quantization().get(), out,
                    MergeExecutor.DEFAULT_MAX_SHARD_BYTES);
        } else {
            AdapterMaterializer.materialize(base, adapter, out, MergeExecutor.DEFAULT_MAX_SHARD_BYTES);
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        if (request.evaluation().isPresent()) {
            progress.report(0.6, "measuring perplexity on the evaluation text");
            Path text = texts.fetch("evaluation.text", texts.parse("evaluation.text", request.evaluation().get()),
                    work.resolve("evaluation.txt"));
            QuantRule rule = request.quantization().orElse(QuantRule.uniform(WeightFormat.F32));
            QuantizedMaterializer.Report report = QuantizedMaterializer.measure(base, adapter, rule, out,
                    Files.readString(text), work.resolve("served"));
            Map<String, Object> perplexity = new LinkedHashMap<>();
            perplexity.put("text", request.evaluation().get().length() > 80
                    ? request.evaluation().get().substring(0, 80) + "…" : request.evaluation().get());
            perplexity.put("serving", request.quantization().map(QuantRule::toString).orElse("none"));
            perplexity.put("unmerged", report.unmerged());
            perplexity.put("materialized", report.materialized());
            perplexity.put("relative_change", report.relativeChange());
            metrics.put("perplexity", perplexity);
        }
        List<NewVersion.Parent> parents = List.of(new NewVersion.Parent(pinned.base(), "base"),
                new NewVersion.Parent(pinned.adapters().values().iterator().next(), "merged-from"));
        return new Produced(out, files(out), parents, metrics, null);
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
