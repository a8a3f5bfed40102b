"""The tests' one toolbox: what test modules share, so that no test module imports another.

- `clock`: the one fake clock (wall and monotonic time that move only when told, and a sleep
  that moves them), for the console, the emulator, the client's backoff and the limiter;
- `virtual_loop`: an event loop whose time is virtual, for the limiter and the shared quota;
- `fakes`: a fake `TaskSource`, the recording app, `running_console` and small helpers;
- `fault_rig`: the fault matrix's faults, tasks and wiring, in process or on a socket;
- `cli`: the command-line driver (the real ``asrtui`` in a subprocess);
- `tmux`: the tmux driver for the end-to-end tests, and what they read off the screen;
- `emulator`: the emulator's rig: a wired app and signed in-process clients;
- `hostile` and `hostile_server`: hostile values and a server that answers with them;
- `secret_cases`: secrets in every place a URL can hold one.
"""
