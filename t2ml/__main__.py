from t2ml.orchestrator.cli import main

main()
