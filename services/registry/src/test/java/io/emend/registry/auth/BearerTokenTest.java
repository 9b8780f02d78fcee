package io.emend.registry.auth;

import static io.emend.registry.Registry.as;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.emend.registry.Tokens;
import io.emend.service.auth.VerifiedTokens;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.jwt.auth.principal.JWTParser;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.util.KeyUtils;
import jakarta.inject.Inject;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The running registry verifies bearer tokens through the cache, and the cache changes no verdict. */
@QuarkusTest
class BearerTokenTest {

    @Inject
    JWTParser parser;

    @Test
    void requestsAreVerifiedThroughTheCache() {
        assertInstanceOf(VerifiedTokens.class, parser);
    }

    @Test
    void aRepeatedTokenKeepsItsRolesAndAnExpiredOneIsRefused() throws Exception {
        String reader = Tokens.reader();
        for (int i = 0; i < 3; i++) {
            as(reader).get("/v1/models").then().statusCode(200);
            as(reader).body("{\"name\":\"never-created\"}").post("/v1/models").then().statusCode(403);
        }
        String expired = Jwt.issuer("emend").upn("old").groups("admin")
                .issuedAt(Instant.now().minusSeconds(7200)).expiresAt(Instant.now().minusSeconds(3600))
                .sign(KeyUtils.readPrivateKey("keys/test-private.pem"));
        as(expired).get("/v1/models").then().statusCode(401).contentType("application/problem+json");
        as(expired).get("/v1/models").then().statusCode(401);
    }
}
