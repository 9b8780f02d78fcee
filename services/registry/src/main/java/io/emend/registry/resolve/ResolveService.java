package io.emend.registry.resolve;

import io.emend.registry.alias.AliasRepository;
import io.emend.registry.version.Version;
import io.emend.registry.version.VersionRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.Optional;

/** Turns a reference into the version it names: the lookup serving makes on every swap, so it is one or two reads. */
@ApplicationScoped
public class ResolveService {

    private final VersionRepository versions;
    private final AliasRepository aliases;

    ResolveService(VersionRepository versions, AliasRepository aliases) {
        this.versions = versions;
        this.aliases = aliases;
    }

    /** A resolved reference: the version, and the alias it went through if any. */
    public record Resolved(Version version, Optional<String> alias) {
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Resolved resolve(Reference reference) {
        if (reference.alias().isPresent()) {
            String alias = reference.alias().get();
            Version version = aliases.target(reference.model(), alias)
                    .flatMap(versions::findById)
                    .orElseThrow(() -> new NothingMatches(reference, "no such alias"));
            return new Resolved(version, Optional.of(alias));
        }
        if (reference.number().isPresent()) {
            return new Resolved(versions.find(reference.model(), reference.number().getAsInt())
                    .orElseThrow(() -> new NothingMatches(reference, "no such version")), Optional.empty());
        }
        return new Resolved(versions.latestReady(reference.model())
                .orElseThrow(() -> new NothingMatches(reference, "the model has no ready version")), Optional.empty());
    }
}
