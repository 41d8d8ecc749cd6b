"""Commands to a hub (the owner's app: SOS, arm, disarm with a code): the
command id taken in the store, on the engine thread, and the topic. The
receiver signs the command (intake.command) and publishes it
(Receiver.send_command)."""
from monitor import case_store
from monitor.case_record import Refused


def topic(prefix, hub):
    return "%s/%s/commands" % (prefix, hub)


def take_id(hub):
    """fn(desk) for Receiver.submit: (the hub's secret, its next command id)."""
    def take(desk):
        desk.store.lock_hubs([hub])
        # Never below the clock: the hub remembers the last id until it reboots,
        # so ids must keep rising even if this store is ever rebuilt.
        taken = case_store.next_command_id(desk.store, hub, desk.now() // 1000)
        if taken is None:
            raise Refused("no account %s" % hub)
        return taken
    return take

