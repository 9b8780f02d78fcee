package io.emend.registry.resolve;

import io.emend.registry.version.Version;
import io.emend.registry.version.VersionRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.Optional;

/**
 * Turns a reference into the version it names: the lookup serving makes on every swap, so it is the two statements
 * of one version read (an alias is joined into the first), never a chain of lookups.
 */
@ApplicationScoped
public class ResolveService {

    private final VersionRepository versions;
    ResolveService(VersionRepository versions) {
        this.versions = versions;
    }

    /** A resolved reference: the version, and the alias it went through if any. */
    public record Resolved(Version version, Optional<String> alias) {
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Resolved resolve(Reference reference) {
        if (reference.alias().isPresent()) {
            String alias = reference.alias().get();
            Version version = versions.findByAlias(reference.model(), alias)
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
