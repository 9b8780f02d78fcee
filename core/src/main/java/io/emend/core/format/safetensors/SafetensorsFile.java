package io.emend.core.format.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.MalformedFileException;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * One memory-mapped safetensors file.
 *
 * <p>Layout (huggingface/safetensors): an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON
 * mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets [begin, end)} relative to the
 * data region that follows the header, plus an optional {@code __metadata__} string map. The whole file is mapped
 * through an {@link Arena}, so files beyond 2 GiB work and tensor bytes are never copied onto the heap until a
 * caller asks for {@link #floats(String)}.
 *
 * <p>The header is validated as the reference implementation does: the data region must be covered exactly by the
 * tensors (no overlaps, no gaps, no trailing bytes), and each tensor's byte span must equal shape × dtype size.
 * Any violation is a {@link MalformedFileException} naming the file and the tensor or field.
 */
public final class SafetensorsFile implements TensorSource {

    /** Bytes of the little-endian header-length prefix. */
    static final int LENGTH_PREFIX_BYTES = Long.BYTES;
    /** Largest header accepted: real headers are kilobytes to a few MB; anything larger is corrupt or hostile. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** Key of the optional string-to-string metadata map in the header. */
    public static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final List<TensorInfo> tensors;
    private final Map<String, String> metadata;

    /** A tensor and its byte span in the data region. */
    private record Entry(TensorInfo info, long begin, long end) {
    }

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, List<Entry> ordered, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        Map<String, Entry> byName = new LinkedHashMap<>();
        List<TensorInfo> infos = new ArrayList<>(ordered.size());
        for (Entry e : ordered) {
            byName.put(e.info().name(), e);
            infos.add(e.info());
        }
        this.entries = Collections.unmodifiableMap(byName);
        this.tensors = List.copyOf(infos);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Maps and validates a safetensors file.
     *
     * @throws IOException            when the file cannot be opened or mapped
     * @throws MalformedFileException when its header or layout is invalid
     */
    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return parse(path, arena, whole);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, Arena arena, MemorySegment whole) {
        long fileSize = whole.byteSize();
        if (fileSize < LENGTH_PREFIX_BYTES) {
            throw new MalformedFileException(path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
        }
        long headerLength = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new MalformedFileException(path, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        }
        if (headerLength > fileSize - LENGTH_PREFIX_BYTES) {
            throw new MalformedFileException(path, "header length " + headerLength + " runs past the end of the "
                    + fileSize + "-byte file (truncated?)");
        }
        String headerText = decodeUtf8(path, whole.asSlice(LENGTH_PREFIX_BYTES, headerLength));
        JsonNode header;
        try {
            header = JSON.readTree(headerText);
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new MalformedFileException(path, "header must be a JSON object");
        }
        long dataStart = LENGTH_PREFIX_BYTES + headerLength;
        long dataSize = fileSize - dataStart;

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                metadata.putAll(readMetadata(path, field.getValue()));
            } else {
                entries.add(readEntry(path, field.getKey(), field.getValue()));
            }
        }
        checkCoverage(path, entries, dataSize);
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        return new SafetensorsFile(path, arena, whole.asSlice(dataStart, dataSize), entries, metadata);
    }

    private static String decodeUtf8(Path path, MemorySegment bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes.toArray(ValueLayout.JAVA_BYTE));
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(buffer)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFileException(path, "header is not valid UTF-8 (at byte " + buffer.position() + ")");
        }
    }

    private static Map<String, String> readMetadata(Path path, JsonNode node) {
        if (node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new MalformedFileException(path, METADATA_KEY + " must be an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> kv = it.next();
            if (!kv.getValue().isTextual()) {
                throw new MalformedFileException(path, METADATA_KEY + "." + kv.getKey() + " must be a string, not "
                        + kv.getValue().getNodeType().toString().toLowerCase());
            }
            out.put(kv.getKey(), kv.getValue().textValue());
        }
        return out;
    }

    private static Entry readEntry(Path path, String name, JsonNode node) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new MalformedFileException(path, where + " must be an object with dtype, shape and data_offsets");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new MalformedFileException(path, where + ": dtype is missing or not a string");
        }
        DType dtype = DType.fromHeader(dtypeNode.textValue()).orElseThrow(() -> new MalformedFileException(path,
                where + ": dtype " + dtypeNode.textValue() + " is not supported (F32, F16, BF16 are)"));
        long[] shape = nonNegativeLongs(path, where, "shape", node.get("shape"), -1);
        long[] offsets = nonNegativeLongs(path, where, "data_offsets", node.get("data_offsets"), 2);
        if (offsets[1] < offsets[0]) {
            throw new MalformedFileException(path, where + ": data_offsets [" + offsets[0] + ", " + offsets[1]
                    + "] end before they begin");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape);
        long expected;
        try {
            expected = info.byteSize();
        } catch (ArithmeticException e) {
            throw new MalformedFileException(path, where + ": shape " + java.util.Arrays.toString(shape) + " overflows");
        }
        if (offsets[1] - offsets[0] != expected) {
            throw new MalformedFileException(path, where + ": shape " + java.util.Arrays.toString(shape) + " of "
                    + dtype + " needs " + expected + " bytes but data_offsets [" + offsets[0] + ", " + offsets[1]
                    + "] span " + (offsets[1] - offsets[0]));
        }
        return new Entry(info, offsets[0], offsets[1]);
    }

    private static long[] nonNegativeLongs(Path path, String where, String field, JsonNode node, int requiredLength) {
        if (node == null || !node.isArray()) {
            throw new MalformedFileException(path, where + ": " + field + " is missing or not an array");
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw new MalformedFileException(path, where + ": " + field + " must have " + requiredLength
                    + " entries, has " + node.size());
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new MalformedFileException(path, where + ": " + field + "[" + i + "] = " + v
                        + " is not a non-negative integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** The tensors must tile the data region exactly, as the reference implementation requires. */
    private static void checkCoverage(Path path, List<Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.end() > dataSize) {
                throw new MalformedFileException(path, "tensor '" + e.info().name() + "': data_offsets ["
                        + e.begin() + ", " + e.end() + "] run past the " + dataSize + "-byte data region (truncated?)");
            }
            if (e.begin() < cursor) {
                throw new MalformedFileException(path, "tensor '" + e.info().name() + "' [" + e.begin() + ", "
                        + e.end() + ") overlaps tensor '" + previous.info().name() + "' [" + previous.begin() + ", "
                        + previous.end() + ")");
            }
            if (e.begin() > cursor) {
                throw new MalformedFileException(path, "tensor '" + e.info().name() + "' begins at " + e.begin()
                        + " but the previous tensor ends at " + cursor + " (gap in data_offsets)");
            }
            cursor = e.end();
            previous = e;
        }
        if (cursor != dataSize) {
            throw new MalformedFileException(path, "tensors cover " + cursor + " bytes but the data region has "
                    + dataSize + " (trailing bytes or wrong data_offsets)");
        }
    }

    /** The file this was mapped from. */
    public Path path() {
        return path;
    }

    /** The header's {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public Optional<TensorInfo> find(String name) {
        Entry e = entries.get(name);
        return e == null ? Optional.empty() : Optional.of(e.info());
    }

    @Override
    public MemorySegment bytes(String name) {
        Entry e = entry(name);
        return data.asSlice(e.begin(), e.end() - e.begin()).asReadOnly();
    }

    @Override
    public float[] floats(String name) {
        Entry e = entry(name);
        return e.info().dtype().toFloats(bytes(name));
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new NoSuchElementException(path + ": no tensor '" + name + "'");
        }
        return e;
    }

    /** Unmaps the file; segments returned earlier become inaccessible. Closing twice is harmless. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
