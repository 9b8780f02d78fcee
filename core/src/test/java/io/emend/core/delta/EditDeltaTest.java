package io.emend.core.delta;

import io.emend.core.format.MalformedFileException;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EditDeltaTest {

    private static final EditDelta.Factors A = new EditDelta.Factors(2, 3, 1, new float[] {1, 2}, new float[] {1, 0, -1});
    private static final EditDelta.Factors B = new EditDelta.Factors(2, 3, 1, new float[] {0, 1}, new float[] {2, 2, 2});

    @Test
    void factorsMultiplyOutAndJoinColumnWise() {
        assertArrayEquals(new float[] {1, 0, -1, 2, 0, -2}, A.dense());
        EditDelta joined = new EditDelta("rome", 1, Map.of("w", A)).plus(new EditDelta("rome", 1, Map.of("w", B)));
        assertEquals(2, joined.edits());
        EditDelta.Factors f = joined.factors().get("w");
        assertEquals(2, f.rank());
        assertArrayEquals(new float[] {1, 0, -1, 4, 2, 0}, f.dense(), "U₁V₁ᵀ + U₂V₂ᵀ");
    }

    @Test
    void writesAndReadsBack(@TempDir Path tmp) throws IOException {
        EditDelta delta = new EditDelta("memit", 2, Map.of("model.layers.1.mlp.down_proj.weight", A.concat(B)));
        Path file = tmp.resolve(EditDelta.FILE_NAME);
        delta.write(file);
        EditDelta read = EditDelta.read(file);
        assertEquals("memit", read.method());
        assertEquals(2, read.edits());
        EditDelta.Factors f = read.factors().get("model.layers.1.mlp.down_proj.weight");
        assertArrayEquals(A.concat(B).u(), f.u());
        assertArrayEquals(A.concat(B).v(), f.v());
    }

    @Test
    void rejectsUnpairedFactorsAndNonFiniteValues(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("bad.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.create(file,
                List.of(new TensorInfo("w.u", DType.F32, new long[] {2, 1})),
                Map.of("format", EditDelta.FORMAT, "edits", "1"))) {
            w.write("w.u", new float[] {1, 2});
            w.commit();
        }
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> EditDelta.read(file));
        assertTrue(e.getMessage().contains("has no w.v"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new EditDelta.Factors(1, 1, 1, new float[] {Float.NaN}, new float[] {1}));
    }
}
