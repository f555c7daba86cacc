"""DynamoDB: the table schema, key builders, item mapping and the repository. The only place boto3 is used."""
