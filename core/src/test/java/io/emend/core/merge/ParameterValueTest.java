package io.emend.core.merge;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterValueTest {

    @Test
    void gradientsInterpolateLinearlyOverTheLayers() {
        ParameterValue g = new ParameterValue.Gradient(List.of(0.0, 1.0, 0.5));
        // values sit at t = 0, 0.5, 1; halfway between them the value is the mean of its neighbours
        assertEquals(0.0, g.at("x", 0).getAsDouble(), 0);
        assertEquals(0.5, g.at("x", 0.25).getAsDouble(), 1e-15);
        assertEquals(1.0, g.at("x", 0.5).getAsDouble(), 0);
        assertEquals(0.75, g.at("x", 0.75).getAsDouble(), 1e-15);
        assertEquals(0.5, g.at("x", 1).getAsDouble(), 0);
    }

    @Test
    void theFirstMatchingFilterWins() {
        ParameterValue v = new ParameterValue.Filtered(List.of(
                new ParameterValue.Conditional(Optional.of("self_attn"), new ParameterValue.Gradient(List.of(0.0, 1.0))),
                new ParameterValue.Conditional(Optional.of("mlp"), new ParameterValue.Scalar(0.9)),
                new ParameterValue.Conditional(Optional.empty(), new ParameterValue.Scalar(0.5))));
        assertEquals(0.25, v.at("model.layers.1.self_attn.q_proj.weight", 0.25).getAsDouble(), 0);
        assertEquals(0.9, v.at("model.layers.1.mlp.up_proj.weight", 0.25).getAsDouble(), 0);
        assertEquals(0.5, v.at("model.norm.weight", 1).getAsDouble(), 0);
        ParameterValue noDefault = new ParameterValue.Filtered(List.of(
                new ParameterValue.Conditional(Optional.of("mlp"), new ParameterValue.Scalar(1))));
        assertTrue(noDefault.at("model.embed_tokens.weight", 0).isEmpty());
    }
}
