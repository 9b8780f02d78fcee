package io.emend.serving.registry;

import java.util.HashMap;
import java.util.Map;

/** {@link RegistryMode} with {@code emend.serving.deltas.edits-over-loaded-base} on. */
public class EditsOverLoadedBase extends RegistryMode {

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> config = new HashMap<>(super.getConfigOverrides());
        config.put("emend.serving.deltas.edits-over-loaded-base", "true");
        return config;
    }
}
