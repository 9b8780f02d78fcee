package io.emend.core.merge;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MergeCatalogTest {

    @Test
    void findsEveryMethodByItsRecipeName() {
        assertEquals(List.of("linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "slerp", "adamerging"),
                MergeCatalog.STANDARD.names());
        for (String name : MergeCatalog.STANDARD.names()) {
            assertEquals(name, MergeCatalog.STANDARD.find(name).name());
        }
        TaskArithmetic ties = (TaskArithmetic) MergeCatalog.STANDARD.find("ties");
        assertTrue(ties.signConsensus() && ties.sparsifier().orElseThrow() instanceof Sparsifier.Magnitude);
        TaskArithmetic dare = (TaskArithmetic) MergeCatalog.STANDARD.find("dare_linear");
        assertTrue(!dare.signConsensus() && dare.sparsifier().orElseThrow() instanceof Sparsifier.RandomDrop);
    }

    @Test
    void anUnknownMethodListsTheValidOnes() {
        MergeException e = assertThrows(MergeException.class, () -> MergeCatalog.STANDARD.find("passthrough"));
        assertEquals("unknown merge method 'passthrough' (valid: linear, task_arithmetic, ties, dare_linear, dare_ties, slerp, adamerging)",
                e.getMessage());
    }

    @Test
    void anUnknownParameterListsTheValidOnes() {
        MergeException e = assertThrows(MergeException.class, () -> MergeCatalog.STANDARD.find("ties").parameter("t"));
        assertEquals("merge method 'ties' has no parameter 't' (valid: weight (per model, required), "
                + "density (per model, default 1.0), lambda (global, default 1.0), normalize (global, default true))",
                e.getMessage());
    }
}
