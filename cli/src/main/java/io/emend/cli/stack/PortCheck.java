package io.emend.cli.stack;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.Map;

/** Finds ports of a stack that something else already holds, before anything is started. */
final class PortCheck {

    private PortCheck() {
    }

    /**
     * Every port of the stack that cannot be bound now, with what Emend wanted it for. Binding the wildcard address
     * fails on Linux and macOS when anything listens on that port on any address, loopback included.
     */
    static Map<Integer, String> taken(StackPorts ports) {
        Map<Integer, String> wanted = new LinkedHashMap<>();
        for (Component c : Component.values()) {
            wanted.put(ports.port(c), c.id());
        }
        wanted.put(ports.kafkaController(), "kafka controller");
        Map<Integer, String> taken = new LinkedHashMap<>();
        wanted.forEach((port, what) -> {
            if (!isFree(port)) {
                taken.put(port, what);
            }
        });
        return taken;
    }

    static boolean isFree(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
