package io.emend.registry.auth;

import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.SecurityIdentityAugmentor;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashSet;
import java.util.Set;

/** Adds the roles a token's roles imply: {@code admin} is also a writer, a {@code writer} is also a reader. */
@ApplicationScoped
public class RoleHierarchy implements SecurityIdentityAugmentor {

    @Override
    public Uni<SecurityIdentity> augment(SecurityIdentity identity, AuthenticationRequestContext context) {
        if (identity.isAnonymous()) {
            return Uni.createFrom().item(identity);
        }
        Set<String> implied = implied(identity.getRoles());
        if (implied.equals(identity.getRoles())) {
            return Uni.createFrom().item(identity);
        }
        return Uni.createFrom().item(QuarkusSecurityIdentity.builder(identity).addRoles(implied).build());
    }

    static Set<String> implied(Set<String> roles) {
        Set<String> all = new LinkedHashSet<>(roles);
        if (all.contains(Roles.ADMIN)) {
            all.add(Roles.WRITER);
        }
        if (all.contains(Roles.WRITER)) {
            all.add(Roles.READER);
        }
        return all;
    }
}
