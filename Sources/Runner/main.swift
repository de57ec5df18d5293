print("cloud-dispatch-runner: not built yet")
