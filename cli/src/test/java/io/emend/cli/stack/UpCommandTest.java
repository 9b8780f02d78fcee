package io.emend.cli.stack;

import io.emend.cli.EmendRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code up} refuses before it starts anything. Starting the real stack is the end-to-end module's job. */
class UpCommandTest {

    @TempDir
    Path data;

    @Test
    void aTakenPortIsNamedAndNothingIsStarted() throws Exception {
        // Something else listens on loopback where the registry wants to be.
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.setReuseAddress(true);
            squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = squatter.getLocalPort();
            int base = port - 1;
            EmendRun run = EmendRun.of("up", "--detach", "--data-dir", data.toString(), "--base-port", Integer.toString(base));

            assertEquals(1, run.exitCode(), run.toString());
            String error = run.errorLines().getFirst();
            assertEquals(1, run.errorLines().size(), run.toString());
            assertTrue(error.startsWith("emend up: "), error);
            assertTrue(error.contains("port " + port + " (registry)"), error);
            assertTrue(error.contains("--base-port N"), error);
            assertFalse(Files.exists(data.resolve("keys")), "nothing is made before the ports are known to be free");
            assertFalse(Files.exists(data.resolve("run")), "no pid files for a stack that never started");
        }
    }

    @Test
    void portCheckSeesListenersOnAnyAddress() throws Exception {
        try (ServerSocket loopback = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket wildcard = new ServerSocket(0)) {
            assertFalse(PortCheck.isFree(loopback.getLocalPort()));
            assertFalse(PortCheck.isFree(wildcard.getLocalPort()));
        }
        int released;
        try (ServerSocket s = new ServerSocket(0)) {
            released = s.getLocalPort();
        }
        assertTrue(PortCheck.isFree(released));
    }

    @Test
    void basePortOutOfRangeIsAUsageError() {
        EmendRun low = EmendRun.of("up", "--data-dir", data.toString(), "--base-port", "80");
        assertEquals(2, low.exitCode(), low.toString());
        assertTrue(low.err().contains("--base-port must be between 1024 and 64522, got 80"), low.err());
        EmendRun high = EmendRun.of("up", "--data-dir", data.toString(), "--base-port", "65000");
        assertEquals(2, high.exitCode(), high.toString());
    }

    @Test
    void aStackThatIsAlreadyRunningIsNotStartedTwice() {
        RunState.write(new io.emend.cli.Workspace(data, data), StackPorts.DEFAULT,
                java.util.Map.of(Component.REGISTRY, ProcessHandle.current()));
        EmendRun run = EmendRun.of("up", "--detach", "--data-dir", data.toString());
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.err().contains("is already running (pids [" + ProcessHandle.current().pid() + "])"), run.err());
        assertTrue(run.err().contains("./emend down stops it"), run.err());
    }

    @Test
    void portsFollowTheBase() {
        StackPorts ports = new StackPorts(18080);
        assertEquals(18081, ports.port(Component.REGISTRY));
        assertEquals(18085, ports.port(Component.SERVING));
        assertEquals(19092, ports.port(Component.KAFKA));
        assertEquals(19093, ports.kafkaController());
        assertEquals(9092, StackPorts.DEFAULT.port(Component.KAFKA));
        assertEquals("http://localhost:8083", StackPorts.DEFAULT.url(Component.EDITOR));
    }
}
