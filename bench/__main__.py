from bench.run import main

if __name__ == "__main__":  # not when a spawned benchmark process imports this module again
    raise SystemExit(main())
