/**
 * Unreachable-host errors name the gateway when it is the gateway that failed: a target
 * behind a gateway that refuses connections fails with SSH_CONNECT naming both.
 */
import { describe, expect, it } from "vitest";
import { AiorchError } from "../../src/errors.ts";
import { SshNode } from "../../src/ssh/index.ts";
import { freePort } from "./sshd.ts";

describe("gateway failures", () => {
  it("name the gateway and the target", async () => {
    const port = await freePort(); // nothing listens there
    const gw = new SshNode({
      host: "127.0.0.14",
      port,
      user: "gwuser",
      agent: false,
      password: "unused-pw-1",
      hostKeys: "off",
    });
    const target = new SshNode({
      host: "10.0.0.7",
      user: "root",
      gateway: gw,
      agent: false,
      password: "unused-pw-1",
      hostKeys: "off",
    });
    const err = await target.connect().catch((e) => e);
    await target.close();
    await gw.close();
    expect(err).toBeInstanceOf(AiorchError);
    expect((err as AiorchError).code, (err as Error).message).toBe("SSH_CONNECT");
    expect((err as AiorchError).message).toMatch(
      new RegExp(
        `^cannot reach root@10\\.0\\.0\\.7: its gateway gwuser@127\\.0\\.0\\.14:${port} failed: .*refused`,
      ),
    );
    expect((err as AiorchError).host).toBe("127.0.0.14");
  });
});
